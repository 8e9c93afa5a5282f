import { NotFoundError } from '@cqrs/core';
import type { RoomView } from '@cqrs/hotel';
import type { HttpServer } from '@cqrs/http';
import { queryFingerprint, searchPage } from '@cqrs/search';
import type { estypes } from '@elastic/elasticsearch';
import { Type } from '@sinclair/typebox';
import { RoomResponse, roomView } from '../views';
import {
  consistencyGate,
  ConsistencyHeaders,
  Cursor,
  errorResponses,
  FreeText,
  IdParams,
  Keyword,
  Nullable,
  Size,
  type ReadContext,
} from './common';

const ListQuery = Type.Object(
  {
    q: Type.Optional(FreeText),
    city: Type.Optional(Keyword),
    hotel: Type.Optional(Keyword),
    size: Type.Optional(Size),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);
const ListResponse = Type.Object({
  total: Type.Integer(),
  hits: Type.Array(RoomResponse),
  nextCursor: Nullable(Type.String()),
});

export function roomRoutes(ctx: ReadContext) {
  return async (app: HttpServer): Promise<void> => {
    const index = ctx.names.alias('rooms');
    const preHandler = consistencyGate(ctx);

    app.get(
      '/rooms/:id',
      {
        preHandler,
        schema: {
          tags: ['rooms'],
          summary: 'One room',
          params: IdParams,
          headers: ConsistencyHeaders,
          response: { 200: RoomResponse, ...errorResponses },
        },
      },
      async (request) => {
        const res = await ctx.client.get<RoomView>(
          { index, id: request.params.id },
          { ignore: [404] },
        );
        if (!res.found || !res._source)
          throw new NotFoundError(`Room ${request.params.id} not found`);
        return roomView(res._source);
      },
    );

    app.get(
      '/rooms',
      {
        preHandler,
        schema: {
          tags: ['rooms'],
          summary: 'Search rooms by hotel, city, number or type',
          querystring: ListQuery,
          headers: ConsistencyHeaders,
          response: { 200: ListResponse, ...errorResponses },
        },
      },
      async (request) => {
        const { size = 20, cursor, ...params } = request.query;
        const q = params.q?.trim() || undefined;
        const filter: estypes.QueryDslQueryContainer[] = [];
        if (params.city) filter.push({ term: { 'city.keyword': params.city } });
        if (params.hotel) filter.push({ term: { 'hotel.keyword': params.hotel } });
        const must: estypes.QueryDslQueryContainer[] = q
          ? [
              {
                multi_match: {
                  query: q,
                  type: 'bool_prefix',
                  operator: 'and',
                  fields: ['hotel^2', 'city^2', 'roomType', 'number'],
                },
              },
            ]
          : [];
        const sort: estypes.SortCombinations[] = q
          ? [{ _score: { order: 'desc' } }, { id: { order: 'asc' } }]
          : [{ 'hotel.keyword': { order: 'asc', missing: '\uffff' } }, { id: { order: 'asc' } }];
        const page = await searchPage<RoomView>(ctx.client, {
          index,
          query: { bool: { filter, must } },
          sort,
          sortName: q ? 'relevance' : 'hotel',
          fingerprint: queryFingerprint({ ...params, q }),
          size,
          ...(cursor ? { cursor } : {}),
        });
        return { total: page.total, hits: page.hits.map(roomView), nextCursor: page.nextCursor };
      },
    );
  };
}
