import {
  commandsFor,
  defineAggregate,
  lifecycleRejection,
  reject,
  type DecideDeps,
  type Rejection,
} from '@cqrs/aggregates';
import type { FieldProblem } from '@cqrs/core';
import { Type, type Static } from '@sinclair/typebox';
import { customer } from '../customer/customer';
import { room } from '../room/room';
import { AggregateId, IsoDate, Reason, dateProblems, daysBetween } from '../shared/fields';
import { ReservationEvents, type ReservationEvent } from './events';
import { reservationMachine, type ReservationContext } from './machine';
import { MAX_STAY_NIGHTS, nightOf, roomNights } from './room-nights';

export const ReservationCommands = {
  PlaceReservation: Type.Object(
    {
      customerId: AggregateId,
      roomId: AggregateId,
      checkIn: IsoDate,
      checkOut: IsoDate,
      guests: Type.Integer({ minimum: 1 }),
    },
    { additionalProperties: false },
  ),
  ConfirmReservation: Type.Object({}, { additionalProperties: false }),
  CancelReservation: Type.Object(
    { reason: Type.Optional(Reason) },
    { additionalProperties: false },
  ),
  CheckInGuest: Type.Object({}, { additionalProperties: false }),
  CheckOutGuest: Type.Object({}, { additionalProperties: false }),
  /** Sent by the reservation-hold deadline (an operator may send it too). */
  ExpireReservation: Type.Object({}, { additionalProperties: false }),
};

type PlaceReservation = Static<typeof ReservationCommands.PlaceReservation>;

/** Dates that exist, and a stay of 1 to 365 nights: a malformed request (400). */
function stayProblems(data: PlaceReservation): FieldProblem[] {
  const problems = dateProblems({ checkIn: data.checkIn, checkOut: data.checkOut });
  if (problems.length > 0) return problems;
  if (data.checkOut <= data.checkIn) {
    problems.push({ path: 'data/checkOut', message: 'must be after checkIn' });
  } else if (daysBetween(data.checkIn, data.checkOut) > MAX_STAY_NIGHTS) {
    problems.push({
      path: 'data/checkOut',
      message: `must be at most ${MAX_STAY_NIGHTS} nights after checkIn`,
    });
  }
  return problems;
}

/**
 * The nights each event takes or frees: a placement holds [checkIn, checkOut); cancelling or
 * expiring frees them all; checking out frees those from the day of departure on.
 */
function roomNightClaims(event: ReservationEvent, before: ReservationContext) {
  switch (event.type) {
    case 'ReservationPlaced':
      return { acquire: roomNights(event.data.roomId, event.data.checkIn, event.data.checkOut) };
    case 'ReservationCancelled':
    case 'ReservationExpired':
      return { release: roomNights(before.roomId, before.checkIn, before.checkOut) };
    case 'GuestCheckedOut': {
      const on = event.data.checkedOutOn;
      if (on === undefined) return {};
      const from = on > before.checkIn ? on : before.checkIn;
      return { release: roomNights(before.roomId, from, before.checkOut) };
    }
    default:
      return {};
  }
}

/**
 * The business rules of placing a reservation (422), read strongly from the customer's and
 * the room's streams at decision time.
 */
async function bookingRules(
  data: PlaceReservation,
  deps: DecideDeps,
): Promise<Rejection | { readonly ratePerNight: number }> {
  const [guest, bookedRoom] = await Promise.all([
    deps.load(customer, data.customerId),
    deps.load(room, data.roomId),
  ]);
  if (guest.version === 0) {
    return reject('customer-exists', `Customer ${data.customerId} does not exist`);
  }
  if (!guest.snapshot.matches('active')) {
    return reject('customer-active', `Customer ${data.customerId} is deactivated`);
  }
  if (bookedRoom.version === 0) {
    return reject('room-exists', `Room ${data.roomId} does not exist`);
  }
  if (!bookedRoom.snapshot.matches('available')) {
    return reject('room-available', `Room ${data.roomId} is retired`);
  }
  if (data.guests > bookedRoom.context.capacity) {
    return reject(
      'room-capacity',
      `Room ${data.roomId} holds ${bookedRoom.context.capacity} guest(s), not ${data.guests}`,
    );
  }
  return { ratePerNight: bookedRoom.context.ratePerNight };
}

const command = commandsFor(reservationMachine);

export const reservation = defineAggregate({
  type: 'reservation',
  machine: reservationMachine,
  events: ReservationEvents,
  claims: {
    of: (event, before) => roomNightClaims(event, before.context),
    rejection(taken) {
      const nights = taken.map(nightOf);
      return reject('room-available', `The room is already booked for ${nights.join(', ')}`, {
        nights,
      });
    },
  },
  deadlines: { reservationHold: 'ExpireReservation' },
  commands: {
    PlaceReservation: command(ReservationCommands.PlaceReservation, {
      validate: stayProblems,
      async decide(state, { data }, deps) {
        // Refuse a second placement before reading two other streams for nothing.
        const placed = lifecycleRejection(state, 'ReservationPlaced');
        if (placed) return placed;
        const rules = await bookingRules(data, deps);
        if ('kind' in rules) return rules;
        const nights = daysBetween(data.checkIn, data.checkOut);
        const totalPrice = nights * rules.ratePerNight;
        if (!Number.isSafeInteger(totalPrice)) {
          return reject('price-range', `A total of ${totalPrice} cents is out of range`);
        }
        return {
          type: 'ReservationPlaced',
          data: { ...data, nights, ratePerNight: rules.ratePerNight, totalPrice },
        };
      },
    }),
    ConfirmReservation: command(ReservationCommands.ConfirmReservation, {
      decide: () => ({ type: 'ReservationConfirmed', data: {} }),
    }),
    CancelReservation: command(ReservationCommands.CancelReservation, {
      decide: (_state, { data }) => ({ type: 'ReservationCancelled', data }),
    }),
    CheckInGuest: command(ReservationCommands.CheckInGuest, {
      decide: () => ({ type: 'GuestCheckedIn', data: {} }),
    }),
    CheckOutGuest: command(ReservationCommands.CheckOutGuest, {
      decide: (_state, _command, deps) => ({
        type: 'GuestCheckedOut',
        data: { checkedOutOn: deps.now().toISOString().slice(0, 10) },
      }),
    }),
    ExpireReservation: command(ReservationCommands.ExpireReservation, {
      decide: () => ({ type: 'ReservationExpired', data: {} }),
    }),
  },
});
