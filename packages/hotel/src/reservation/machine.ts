import { assign, setup } from 'xstate';
import type { ReservationEvent } from './events';

export interface ReservationContext {
  readonly customerId: string;
  readonly roomId: string;
  readonly checkIn: string;
  readonly checkOut: string;
  readonly guests: number;
  readonly nights: number;
  readonly ratePerNight: number;
  readonly totalPrice: number;
  readonly cancellationReason?: string;
}

/** How long a pending reservation holds its nights (RESERVATION_HOLD_MINUTES overrides it). */
export const DEFAULT_RESERVATION_HOLD_MS = 15 * 60_000;

/**
 * pending -> confirmed -> checkedIn -> checkedOut; pending | confirmed -> cancelled;
 * pending -> expired when the hold runs out (a durable deadline, docs/room-calendar.md).
 * Any other transition is refused (422), by construction: the states list what they accept.
 */
export const reservationMachine = setup({
  types: {
    context: {} as ReservationContext,
    events: {} as ReservationEvent,
  },
  guards: {
    // The price a reservation carries is the one its stay adds up to.
    priceMatchesStay: ({ event }) =>
      event.type === 'ReservationPlaced' &&
      event.data.nights >= 1 &&
      event.data.checkOut > event.data.checkIn &&
      event.data.totalPrice === event.data.nights * event.data.ratePerNight,
  },
  delays: { reservationHold: DEFAULT_RESERVATION_HOLD_MS },
  actions: {
    recordPlacement: assign(({ event }) =>
      event.type === 'ReservationPlaced' ? { ...event.data } : {},
    ),
    recordCancellation: assign(({ event }) =>
      event.type === 'ReservationCancelled' && event.data.reason !== undefined
        ? { cancellationReason: event.data.reason }
        : {},
    ),
  },
}).createMachine({
  id: 'reservation',
  context: {
    customerId: '',
    roomId: '',
    checkIn: '',
    checkOut: '',
    guests: 0,
    nights: 0,
    ratePerNight: 0,
    totalPrice: 0,
  },
  initial: 'nonexistent',
  states: {
    nonexistent: {
      on: {
        ReservationPlaced: {
          guard: 'priceMatchesStay',
          target: 'pending',
          actions: 'recordPlacement',
        },
      },
    },
    pending: {
      // Durable: the runtime writes this delay as a deadline row with the event that enters
      // `pending`; when it elapses a worker sends ExpireReservation, whose ReservationExpired
      // takes the transition below (replay never fires timers, the event does).
      after: { reservationHold: { target: 'expired' } },
      on: {
        ReservationConfirmed: { target: 'confirmed' },
        ReservationCancelled: { target: 'cancelled', actions: 'recordCancellation' },
        ReservationExpired: { target: 'expired' },
      },
    },
    confirmed: {
      on: {
        GuestCheckedIn: { target: 'checkedIn' },
        ReservationCancelled: { target: 'cancelled', actions: 'recordCancellation' },
      },
    },
    checkedIn: {
      on: { GuestCheckedOut: { target: 'checkedOut' } },
    },
    checkedOut: { type: 'final' },
    cancelled: { type: 'final' },
    expired: { type: 'final' },
  },
});
