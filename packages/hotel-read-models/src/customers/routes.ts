import { NotFoundError } from '@cqrs/core';
import {
  findDocument,
  IdParams,
  listOf,
  queryRoute,
  searchDocuments,
  type QueryRoutes,
} from '@cqrs/search';
import { customersProjection, type CustomerView } from './projection';
import { CustomerListQuery, customerSearch } from './query';
import { CustomerListResponse, CustomerResponse, customerResponse } from './response';

const model = customersProjection.name;

export const customerRoutes: QueryRoutes = (ctx) => async (app) => {
  app.get(
    '/customers/:id',
    queryRoute(
      ctx,
      { tags: ['customers'], summary: 'One customer', params: IdParams },
      CustomerResponse,
    ),
    async (request) => {
      const doc = await findDocument<CustomerView>(ctx, model, request.params.id);
      if (!doc) throw new NotFoundError(`Customer ${request.params.id} not found`);
      return customerResponse(doc);
    },
  );

  app.get(
    '/customers',
    queryRoute(
      ctx,
      {
        tags: ['customers'],
        summary: 'Search customers by name or email',
        querystring: CustomerListQuery,
      },
      CustomerListResponse,
    ),
    async (request) => {
      const { size = 20, cursor, ...params } = request.query;
      const page = await searchDocuments<CustomerView>(
        ctx,
        model,
        { size, cursor },
        customerSearch(params),
      );
      return listOf(page, customerResponse);
    },
  );
};
