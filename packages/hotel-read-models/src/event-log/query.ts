import { Cursor, Id, queryFingerprint, Size, type PageQuery } from '@cqrs/search';
import type { estypes } from '@elastic/elasticsearch';
import { Type, type Static } from '@sinclair/typebox';

export const EventListQuery = Type.Object(
  {
    streamType: Type.Optional(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]{0,63}$' })),
    streamId: Type.Optional(Id),
    type: Type.Optional(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,127}$' })),
    size: Type.Optional(Size),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);
export type EventListQuery = Static<typeof EventListQuery>;

/** `GET /events`: newest first, filtered by stream and event type. */
export function eventSearch(params: Omit<EventListQuery, 'size' | 'cursor'>): PageQuery {
  const filter: estypes.QueryDslQueryContainer[] = [];
  if (params.streamType) filter.push({ term: { streamType: params.streamType } });
  if (params.streamId) filter.push({ term: { streamId: params.streamId } });
  if (params.type) filter.push({ term: { type: params.type } });
  return {
    query: { bool: { filter } },
    sort: [{ position: { order: 'desc' } }, { eventId: { order: 'asc' } }],
    sortName: 'newest',
    fingerprint: queryFingerprint(params),
  };
}
