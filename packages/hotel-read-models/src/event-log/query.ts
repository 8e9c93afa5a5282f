import { Id, queryFingerprint, type PageQuery } from '@cqrs/search';
import type { estypes } from '@elastic/elasticsearch';
import { Type, type Static } from '@sinclair/typebox';

/** The parameters of `GET /events` (besides `size` and `cursor`). */
export const EventFilters = Type.Object({
  streamType: Type.Optional(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]{0,63}$' })),
  streamId: Type.Optional(Id),
  type: Type.Optional(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,127}$' })),
});
export type EventFilters = Static<typeof EventFilters>;

/** `GET /events`: newest first, filtered by stream and event type. */
export function eventSearch(filters: EventFilters): PageQuery {
  const filter: estypes.QueryDslQueryContainer[] = [];
  if (filters.streamType) filter.push({ term: { streamType: filters.streamType } });
  if (filters.streamId) filter.push({ term: { streamId: filters.streamId } });
  if (filters.type) filter.push({ term: { type: filters.type } });
  return {
    query: { bool: { filter } },
    sort: [{ position: { order: 'desc' } }, { eventId: { order: 'asc' } }],
    sortName: 'newest',
    fingerprint: queryFingerprint(filters),
  };
}
