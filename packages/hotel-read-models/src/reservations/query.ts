import { ValidationError } from '@cqrs/core';
import {
  checkDay,
  Day,
  FreeText,
  freeText,
  Id,
  Keyword,
  queryFingerprint,
  searchText,
  type PageQuery,
} from '@cqrs/search';
import type { estypes } from '@elastic/elasticsearch';
import { Type, type Static } from '@sinclair/typebox';

const STATUSES = [
  'pending',
  'confirmed',
  'checkedIn',
  'checkedOut',
  'cancelled',
  'expired',
] as const;
const SORTS = [
  'relevance',
  'checkIn',
  '-checkIn',
  'checkOut',
  '-checkOut',
  'totalPrice',
  '-totalPrice',
  'updatedAt',
  '-updatedAt',
] as const;
type SortName = (typeof SORTS)[number];

/** The parameters of `GET /reservations` (besides `size` and `cursor`). */
export const ReservationFilters = Type.Object({
  q: Type.Optional(FreeText),
  status: Type.Optional(Type.Union(STATUSES.map((s) => Type.Literal(s)))),
  hotel: Type.Optional(Keyword),
  city: Type.Optional(Keyword),
  customerId: Type.Optional(Id),
  checkInFrom: Type.Optional(Day),
  checkInTo: Type.Optional(Day),
  sort: Type.Optional(
    Type.Union(
      SORTS.map((s) => Type.Literal(s)),
      {
        description: 'default: relevance with q, else -updatedAt; "-" = descending',
      },
    ),
  ),
});
export type ReservationFilters = Static<typeof ReservationFilters>;

/** Sort values must survive JSON: explicit `missing` values instead of Long.MIN/MAX. */
const MISSING = {
  // Dates sort as epoch milliseconds: 9999-12-31 and 0001-01-01.
  day: { asc: 253402214400000, desc: -62135596800000 },
  timestamp: { asc: 253402214400000, desc: -62135596800000 },
  number: { asc: Number.MAX_SAFE_INTEGER, desc: -Number.MAX_SAFE_INTEGER },
};
const FIELDS: Record<string, { field: string; missing: keyof typeof MISSING }> = {
  checkIn: { field: 'checkIn', missing: 'day' },
  checkOut: { field: 'checkOut', missing: 'day' },
  totalPrice: { field: 'totalPrice', missing: 'number' },
  updatedAt: { field: 'updatedAt', missing: 'timestamp' },
};

function sortClauses(sort: SortName): estypes.SortCombinations[] {
  const tiebreaker: estypes.SortCombinations = { id: { order: 'asc' } };
  if (sort === 'relevance') return [{ _score: { order: 'desc' } }, tiebreaker];
  const order = sort.startsWith('-') ? 'desc' : 'asc';
  const f = FIELDS[sort.replace(/^-/, '')]!;
  return [{ [f.field]: { order, missing: MISSING[f.missing][order] } }, tiebreaker];
}

/**
 * `GET /reservations`: free text over guest and room, filters, a sort, and the status and
 * hotel facets. Bad dates and an empty check-in range are a 400.
 */
export function reservationSearch(filters: ReservationFilters): PageQuery {
  const { sort: sortParam, ...params } = filters;
  checkDay(params.checkInFrom, 'checkInFrom');
  checkDay(params.checkInTo, 'checkInTo');
  if (params.checkInFrom && params.checkInTo && params.checkInFrom > params.checkInTo) {
    throw new ValidationError('checkInFrom is after checkInTo', [
      { path: 'querystring/checkInFrom', message: 'must not be after checkInTo' },
    ]);
  }
  const q = searchText(params.q);
  const sort: SortName = sortParam ?? (q ? 'relevance' : '-updatedAt');
  const filter: estypes.QueryDslQueryContainer[] = [{ term: { kind: 'reservation' } }];
  if (params.status) filter.push({ term: { status: params.status } });
  if (params.hotel) filter.push({ term: { 'room.hotel.keyword': params.hotel } });
  if (params.city) filter.push({ term: { 'room.city.keyword': params.city } });
  if (params.customerId) filter.push({ term: { 'customer.id': params.customerId } });
  if (params.checkInFrom || params.checkInTo) {
    filter.push({
      range: {
        checkIn: {
          ...(params.checkInFrom ? { gte: params.checkInFrom } : {}),
          ...(params.checkInTo ? { lte: params.checkInTo } : {}),
        },
      },
    });
  }
  const must = q
    ? [freeText(q, ['customer.name^3', 'customer.email^2', 'room.hotel^2', 'room.city'])]
    : [];
  return {
    query: { bool: { filter, must } },
    sort: sortClauses(sort),
    sortName: sort,
    fingerprint: queryFingerprint({ ...params, q }),
    aggs: {
      status: { terms: { field: 'status', size: STATUSES.length } },
      hotel: { terms: { field: 'room.hotel.keyword', size: 50 } },
    },
  };
}
