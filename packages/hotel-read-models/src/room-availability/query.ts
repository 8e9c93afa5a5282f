import { ValidationError } from '@cqrs/core';
import { MAX_STAY_NIGHTS, nightsOf } from '@cqrs/hotel';
import { byKeyword, checkDay, Day, Keyword, queryFingerprint, type PageQuery } from '@cqrs/search';
import type { estypes } from '@elastic/elasticsearch';
import { Type, type Static } from '@sinclair/typebox';

/** The parameters of `GET /rooms/availability` (besides `size` and `cursor`). */
export const AvailabilityFilters = Type.Object({
  checkIn: Day,
  checkOut: Day,
  city: Type.Optional(Keyword),
  hotel: Type.Optional(Keyword),
  roomType: Type.Optional(Keyword),
  guests: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 1 })),
});
export type AvailabilityFilters = Static<typeof AvailabilityFilters>;

/** The nights of the stay asked for, or a 400 (not a date, checkOut not after checkIn, > 365). */
export function stayNights(filters: AvailabilityFilters): string[] {
  checkDay(filters.checkIn, 'checkIn');
  checkDay(filters.checkOut, 'checkOut');
  if (filters.checkOut <= filters.checkIn) {
    throw new ValidationError('checkOut must be after checkIn', [
      { path: 'querystring/checkOut', message: 'must be after checkIn' },
    ]);
  }
  const nights = nightsOf(filters.checkIn, filters.checkOut);
  if (nights.length > MAX_STAY_NIGHTS) {
    throw new ValidationError(`A stay is at most ${MAX_STAY_NIGHTS} nights`, [
      {
        path: 'querystring/checkOut',
        message: `must be at most ${MAX_STAY_NIGHTS} nights after checkIn`,
      },
    ]);
  }
  return nights;
}

/** Rooms not retired, big enough, held on none of the nights; by hotel. */
export function availabilitySearch(filters: AvailabilityFilters): PageQuery {
  const nights = stayNights(filters);
  const filter: estypes.QueryDslQueryContainer[] = [
    { term: { kind: 'room' } },
    { term: { status: 'available' } },
    { range: { capacity: { gte: filters.guests ?? 1 } } },
  ];
  if (filters.city) filter.push({ term: { 'city.keyword': filters.city } });
  if (filters.hotel) filter.push({ term: { 'hotel.keyword': filters.hotel } });
  if (filters.roomType) filter.push({ term: { roomType: filters.roomType } });
  return {
    query: { bool: { filter, must_not: [{ terms: { heldNights: nights } }] } },
    sort: byKeyword('hotel.keyword'),
    sortName: 'hotel',
    fingerprint: queryFingerprint({ ...filters, guests: filters.guests ?? 1 }),
  };
}
