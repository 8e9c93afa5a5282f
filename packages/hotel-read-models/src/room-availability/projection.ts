import type { ReadModelProjection } from '@cqrs/core';
import { assignNewer, type Versioned } from '@cqrs/search';
import { nightsOf } from '@cqrs/hotel';
import { isReservationEvent, isRoomEvent, type ReservationEnvelope } from '../hotel-event';
import { emptyRoom, roomFields, type RoomView } from '../rooms/projection';

/**
 * What the read side knows of one reservation's hold on its room: facts, each set by one event
 * type and never taken back, so merging them is the same in any order and any number of times
 * (redelivery, reordering). The nights held follow from the facts (`heldNights`).
 */
export interface Hold {
  /** From ReservationPlaced. */
  readonly checkIn: string | null;
  readonly checkOut: string | null;
  /** ReservationCancelled or ReservationExpired: nothing held. */
  readonly released: boolean;
  /** GuestCheckedOut: the nights from this day on are free. */
  readonly releasedFrom: string | null;
  /** The highest reservation version seen (for inspection; the merge needs no order). */
  readonly version: number;
}

/**
 * A document of `room-availability`. `kind: 'room'` (id = room id): the room's fields
 * (versioned by the room stream), each reservation's hold and the union of the nights held,
 * which the search excludes. `kind: 'reservation'` (id `reservation:<id>`): the facts of one
 * reservation, for the events that arrive before its placement has reached the room.
 */
export interface AvailabilityDocument extends RoomView {
  readonly kind: 'room' | 'reservation';
  readonly holds: Readonly<Record<string, Hold>>;
  /** The reservations holding (or having held) this room: finds the room for later events. */
  readonly reservationIds: readonly string[];
  /** `YYYY-MM-DD` of every night some reservation holds. */
  readonly heldNights: readonly string[];
}

export const reservationRefId = (reservationId: string) => `reservation:${reservationId}`;

const noHold: Hold = {
  checkIn: null,
  checkOut: null,
  released: false,
  releasedFrom: null,
  version: 0,
};

function emptyDocument(kind: AvailabilityDocument['kind'], id: string): AvailabilityDocument {
  return { kind, ...emptyRoom(id), holds: {}, reservationIds: [], heldNights: [] };
}

/** The facts one reservation event adds; undefined when it adds none (confirm, check-in). */
function factsOf(event: ReservationEnvelope): Partial<Hold> | undefined {
  switch (event.type) {
    case 'ReservationPlaced':
      return { checkIn: event.data.checkIn, checkOut: event.data.checkOut };
    case 'ReservationCancelled':
    case 'ReservationExpired':
      return { released: true };
    case 'GuestCheckedOut':
      return event.data.checkedOutOn ? { releasedFrom: event.data.checkedOutOn } : undefined;
    default:
      return undefined;
  }
}

export function mergeHolds(a: Hold, b: Partial<Hold>): Hold {
  return {
    checkIn: a.checkIn ?? b.checkIn ?? null,
    checkOut: a.checkOut ?? b.checkOut ?? null,
    released: a.released || b.released === true,
    releasedFrom: a.releasedFrom ?? b.releasedFrom ?? null,
    version: Math.max(a.version, b.version ?? 0),
  };
}

/** The nights a hold keeps: [checkIn, checkOut), cut at releasedFrom, none when released. */
export function heldNights(hold: Hold): string[] {
  if (hold.released || !hold.checkIn || !hold.checkOut) return [];
  const end =
    hold.releasedFrom && hold.releasedFrom < hold.checkOut
      ? hold.releasedFrom > hold.checkIn
        ? hold.releasedFrom
        : hold.checkIn
      : hold.checkOut;
  return nightsOf(hold.checkIn, end);
}

function withHold(
  doc: AvailabilityDocument,
  reservationId: string,
  hold: Hold,
): AvailabilityDocument {
  const holds = { ...doc.holds, [reservationId]: hold };
  const nights = new Set(Object.values(holds).flatMap(heldNights));
  return {
    ...doc,
    holds,
    reservationIds: doc.reservationIds.includes(reservationId)
      ? doc.reservationIds
      : [...doc.reservationIds, reservationId],
    heldNights: [...nights].sort(),
  };
}

function evolveReservation(
  doc: AvailabilityDocument | undefined,
  event: ReservationEnvelope,
  lookup: (id: string) => AvailabilityDocument | undefined,
  id: string,
): AvailabilityDocument | undefined {
  const facts = factsOf(event);
  if (!facts) return undefined;
  const reservationId = event.streamId;
  const added = { ...facts, version: event.version };
  if (id === reservationRefId(reservationId)) {
    const base = doc ?? emptyDocument('reservation', id);
    const before = base.holds[reservationId] ?? noHold;
    const hold = mergeHolds(before, added);
    return JSON.stringify(hold) === JSON.stringify(before)
      ? undefined
      : { ...base, holds: { [reservationId]: hold } };
  }
  // The room's document: what it had for the reservation, what the reservation's own
  // document learnt before (events that overtook the placement), and this event.
  const base = doc ?? emptyDocument('room', id);
  const known = lookup(reservationRefId(reservationId))?.holds[reservationId] ?? noHold;
  const before = base.holds[reservationId] ?? noHold;
  const hold = mergeHolds(mergeHolds(before, known), added);
  if (doc && JSON.stringify(hold) === JSON.stringify(before)) return undefined;
  return withHold(base, reservationId, hold);
}

/**
 * `room-availability`: which rooms are free for which nights (GET /rooms/availability). Room
 * events set the room's fields; reservation events add facts to the reservation's hold, on
 * its own document and on its room's.
 */
export const roomAvailabilityProjection: ReadModelProjection<AvailabilityDocument> = {
  name: 'room-availability',
  streamTypes: ['room', 'reservation'],
  targets(event) {
    if (isRoomEvent(event)) return [{ id: event.streamId }];
    if (!isReservationEvent(event) || !factsOf(event)) return [];
    const ref = { id: reservationRefId(event.streamId) };
    if (event.type === 'ReservationPlaced') return [ref, { id: event.data.roomId }];
    return [ref, { field: 'reservationIds', value: event.streamId }];
  },
  lookups(event) {
    if (!isReservationEvent(event) || event.type !== 'ReservationPlaced') return [];
    return [reservationRefId(event.streamId)];
  },
  evolve(doc, event, ctx) {
    if (isRoomEvent(event)) {
      const base = doc ?? emptyDocument('room', event.streamId);
      return assignNewer(base, event.version, {
        ...roomFields(event),
        updatedAt: event.occurredAt,
      } as Partial<Omit<AvailabilityDocument, keyof Versioned>>);
    }
    if (isReservationEvent(event)) {
      return evolveReservation(doc, event, (id) => ctx.lookup(id), ctx.id);
    }
    return undefined;
  },
};
