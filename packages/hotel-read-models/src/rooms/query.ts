import {
  byKeyword,
  byRelevance,
  FreeText,
  freeText,
  Keyword,
  queryFingerprint,
  searchText,
  type PageQuery,
} from '@cqrs/search';
import type { estypes } from '@elastic/elasticsearch';
import { Type, type Static } from '@sinclair/typebox';

/** The parameters of `GET /rooms` (besides `size` and `cursor`). */
export const RoomFilters = Type.Object({
  q: Type.Optional(FreeText),
  city: Type.Optional(Keyword),
  hotel: Type.Optional(Keyword),
});
export type RoomFilters = Static<typeof RoomFilters>;

/** `GET /rooms`: by hotel, city, number or type (best match first), else by hotel. */
export function roomSearch(filters: RoomFilters): PageQuery {
  const q = searchText(filters.q);
  const filter: estypes.QueryDslQueryContainer[] = [];
  if (filters.city) filter.push({ term: { 'city.keyword': filters.city } });
  if (filters.hotel) filter.push({ term: { 'hotel.keyword': filters.hotel } });
  return {
    query: {
      bool: { filter, must: q ? [freeText(q, ['hotel^2', 'city^2', 'roomType', 'number'])] : [] },
    },
    sort: q ? byRelevance() : byKeyword('hotel.keyword'),
    sortName: q ? 'relevance' : 'hotel',
    fingerprint: queryFingerprint({ ...filters, q }),
  };
}
