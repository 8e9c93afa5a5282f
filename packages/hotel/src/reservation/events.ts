import type { EventUnion } from '@cqrs/aggregates';
import { Type } from '@sinclair/typebox';

/** The reservation's events (schema version 1), as agreed with the read side. */
export const ReservationEvents = {
  ReservationPlaced: Type.Object({
    customerId: Type.String(),
    roomId: Type.String(),
    checkIn: Type.String(),
    checkOut: Type.String(),
    guests: Type.Integer(),
    nights: Type.Integer(),
    /** The room's rate when the reservation was placed, in cents. */
    ratePerNight: Type.Integer(),
    /** nights x ratePerNight, in cents. */
    totalPrice: Type.Integer(),
  }),
  ReservationConfirmed: Type.Object({}),
  ReservationCancelled: Type.Object({ reason: Type.Optional(Type.String()) }),
  GuestCheckedIn: Type.Object({}),
  GuestCheckedOut: Type.Object({}),
};

export type ReservationEvent = EventUnion<typeof ReservationEvents>;
