import { NotFoundError } from '@cqrs/core';
import type { CustomerView } from '@cqrs/hotel';
import type { HttpServer } from '@cqrs/http';
import { queryFingerprint, searchPage } from '@cqrs/search';
import type { estypes } from '@elastic/elasticsearch';
import { Type } from '@sinclair/typebox';
import { CustomerResponse, customerView } from '../views';
import {
  consistencyGate,
  ConsistencyHeaders,
  Cursor,
  errorResponses,
  FreeText,
  IdParams,
  Nullable,
  Size,
  type ReadContext,
} from './common';

const ListQuery = Type.Object(
  { q: Type.Optional(FreeText), size: Type.Optional(Size), cursor: Type.Optional(Cursor) },
  { additionalProperties: false },
);
const ListResponse = Type.Object({
  total: Type.Integer(),
  hits: Type.Array(CustomerResponse),
  nextCursor: Nullable(Type.String()),
});

export function customerRoutes(ctx: ReadContext) {
  return async (app: HttpServer): Promise<void> => {
    const index = ctx.names.alias('customers');
    const preHandler = consistencyGate(ctx);

    app.get(
      '/customers/:id',
      {
        preHandler,
        schema: {
          tags: ['customers'],
          summary: 'One customer',
          params: IdParams,
          headers: ConsistencyHeaders,
          response: { 200: CustomerResponse, ...errorResponses },
        },
      },
      async (request) => {
        const res = await ctx.client.get<CustomerView>(
          { index, id: request.params.id },
          { ignore: [404] },
        );
        if (!res.found || !res._source)
          throw new NotFoundError(`Customer ${request.params.id} not found`);
        return customerView(res._source);
      },
    );

    app.get(
      '/customers',
      {
        preHandler,
        schema: {
          tags: ['customers'],
          summary: 'Search customers by name or email',
          querystring: ListQuery,
          headers: ConsistencyHeaders,
          response: { 200: ListResponse, ...errorResponses },
        },
      },
      async (request) => {
        const { size = 20, cursor } = request.query;
        const q = request.query.q?.trim() || undefined;
        const query: estypes.QueryDslQueryContainer = q
          ? {
              multi_match: {
                query: q,
                type: 'bool_prefix',
                operator: 'and',
                fields: ['name^2', 'email'],
              },
            }
          : { match_all: {} };
        const sort: estypes.SortCombinations[] = q
          ? [{ _score: { order: 'desc' } }, { id: { order: 'asc' } }]
          : [{ 'name.keyword': { order: 'asc', missing: '\uffff' } }, { id: { order: 'asc' } }];
        const page = await searchPage<CustomerView>(ctx.client, {
          index,
          query,
          sort,
          sortName: q ? 'relevance' : 'name',
          fingerprint: queryFingerprint({ q }),
          size,
          ...(cursor ? { cursor } : {}),
        });
        return {
          total: page.total,
          hits: page.hits.map(customerView),
          nextCursor: page.nextCursor,
        };
      },
    );
  };
}
