import { ListResponse, Nullable, termsFacet, type Page } from '@cqrs/search';
import { Type, type Static } from '@sinclair/typebox';
import type { ReservationDocument } from './projection';

const S = Nullable(Type.String());
const N = Nullable(Type.Number());

export const ReservationResponse = Type.Object({
  id: Type.String(),
  status: S,
  checkIn: S,
  checkOut: S,
  nights: N,
  guests: N,
  totalPrice: N,
  customer: Type.Object({ id: S, name: S, email: S }),
  room: Type.Object({ id: S, hotel: S, city: S, number: S, roomType: S }),
  version: Type.Integer(),
  updatedAt: S,
});
export type ReservationResponse = Static<typeof ReservationResponse>;

const Facet = Type.Record(Type.String(), Type.Integer());
export const ReservationListResponse = ListResponse(ReservationResponse, {
  facets: Type.Object({ status: Facet, hotel: Facet }),
});

export function reservationResponse(d: ReservationDocument): ReservationResponse {
  return {
    id: d.id,
    status: d.status,
    checkIn: d.checkIn,
    checkOut: d.checkOut,
    nights: d.nights,
    guests: d.guests,
    totalPrice: d.totalPrice,
    customer: {
      id: d.customer?.id ?? null,
      name: d.customer?.name ?? null,
      email: d.customer?.email ?? null,
    },
    room: {
      id: d.room?.id ?? null,
      hotel: d.room?.hotel ?? null,
      city: d.room?.city ?? null,
      number: d.room?.number ?? null,
      roomType: d.room?.roomType ?? null,
    },
    version: d.version,
    updatedAt: d.updatedAt,
  };
}

/** The status and hotel counts of a search (the aggregations `reservationSearch` asks for). */
export function reservationFacets(page: Page<ReservationDocument>) {
  return {
    status: termsFacet(page.aggregations?.status),
    hotel: termsFacet(page.aggregations?.hotel),
  };
}
