import { documentRoute, listOf, searchRoute, type Page, type QueryRoutes } from '@cqrs/search';
import { customersProjection, type CustomerView } from './projection';
import { CustomerFilters, customerSearch } from './query';
import { CustomerListResponse, CustomerResponse, customerResponse } from './response';

const model = customersProjection.name;
const tags = ['customers'];

export const customerRoutes: QueryRoutes = (ctx) => async (app) => {
  documentRoute(app, ctx, {
    path: '/customers/:id',
    model,
    tags,
    summary: 'One customer',
    response: CustomerResponse,
    view: customerResponse,
    notFound: (id) => `Customer ${id} not found`,
  });
  searchRoute(app, ctx, {
    path: '/customers',
    model,
    tags,
    summary: 'Search customers by name or email',
    filters: CustomerFilters,
    response: CustomerListResponse,
    search: customerSearch,
    answer: (page: Page<CustomerView>) => listOf(page, customerResponse),
  });
};
