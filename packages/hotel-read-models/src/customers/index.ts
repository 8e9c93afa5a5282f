import type { ReadModel } from '@cqrs/search';
import { customersMapping } from './mapping';
import { customersProjection, type CustomerView } from './projection';
import { customerRoutes } from './routes';

/** `customers`: one document per customer; `GET /customers/{id}`, `GET /customers`. */
export const customersModel: ReadModel<CustomerView> = {
  projection: customersProjection,
  mappings: customersMapping,
  routes: customerRoutes,
};
