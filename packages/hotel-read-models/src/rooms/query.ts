import { Cursor, FreeText, Keyword, queryFingerprint, Size, type PageQuery } from '@cqrs/search';
import type { estypes } from '@elastic/elasticsearch';
import { Type, type Static } from '@sinclair/typebox';

export const RoomListQuery = Type.Object(
  {
    q: Type.Optional(FreeText),
    city: Type.Optional(Keyword),
    hotel: Type.Optional(Keyword),
    size: Type.Optional(Size),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);
export type RoomListQuery = Static<typeof RoomListQuery>;

/** `GET /rooms`: by hotel, city, number or type (best match first), else by hotel. */
export function roomSearch(params: Omit<RoomListQuery, 'size' | 'cursor'>): PageQuery {
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
  return {
    query: { bool: { filter, must } },
    sort,
    sortName: q ? 'relevance' : 'hotel',
    fingerprint: queryFingerprint({ ...params, q }),
  };
}
