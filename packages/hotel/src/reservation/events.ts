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
  /** The hold ran out before the reservation was confirmed; its nights are free again. */
  ReservationExpired: Type.Object({}),
  GuestCheckedOut: Type.Object({
    /**
     * The day (UTC) the guest left: the nights from it on are free again (an early departure
     * frees the rest of the stay). Absent on events stored before it existed: nothing freed.
     */
    checkedOutOn: Type.Optional(Type.String()),
  }),
};

export type ReservationEvent = EventUnion<typeof ReservationEvents>;
