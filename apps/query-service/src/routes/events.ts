import type { EventLogEntry } from '@cqrs/hotel';
import type { HttpServer } from '@cqrs/http';
import { queryFingerprint, searchPage } from '@cqrs/search';
import type { estypes } from '@elastic/elasticsearch';
import { Type } from '@sinclair/typebox';
import { EventResponse, eventView } from '../views';
import {
  consistencyGate,
  ConsistencyHeaders,
  Cursor,
  errorResponses,
  Id,
  Nullable,
  Size,
  type ReadContext,
} from './common';

const ListQuery = Type.Object(
  {
    streamType: Type.Optional(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]{0,63}$' })),
    streamId: Type.Optional(Id),
    type: Type.Optional(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,127}$' })),
    size: Type.Optional(Size),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);
const ListResponse = Type.Object({
  total: Type.Integer(),
  hits: Type.Array(EventResponse),
  nextCursor: Nullable(Type.String()),
});

export function eventRoutes(ctx: ReadContext) {
  return async (app: HttpServer): Promise<void> => {
    const index = ctx.names.alias('events');
    app.get(
      '/events',
      {
        preHandler: consistencyGate(ctx),
        schema: {
          tags: ['events'],
          summary: 'The event log, newest first',
          querystring: ListQuery,
          headers: ConsistencyHeaders,
          response: { 200: ListResponse, ...errorResponses },
        },
      },
      async (request) => {
        const { size = 20, cursor, ...params } = request.query;
        const filter: estypes.QueryDslQueryContainer[] = [];
        if (params.streamType) filter.push({ term: { streamType: params.streamType } });
        if (params.streamId) filter.push({ term: { streamId: params.streamId } });
        if (params.type) filter.push({ term: { type: params.type } });
        const page = await searchPage<EventLogEntry>(ctx.client, {
          index,
          query: { bool: { filter } },
          sort: [{ position: { order: 'desc' } }, { eventId: { order: 'asc' } }],
          sortName: 'newest',
          fingerprint: queryFingerprint(params),
          size,
          ...(cursor ? { cursor } : {}),
        });
        return { total: page.total, hits: page.hits.map(eventView), nextCursor: page.nextCursor };
      },
    );
  };
}
