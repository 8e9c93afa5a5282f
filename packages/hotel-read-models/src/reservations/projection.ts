import type { ProjectionContext, ReadModelProjection } from '@cqrs/core';
import { assignNewer, mergeNewer, type Versioned } from '@cqrs/search';
import { customerFields } from '../customers/projection';
import {
  isCustomerEvent,
  isReservationEvent,
  isRoomEvent,
  type CustomerEnvelope,
  type ReservationEnvelope,
  type RoomEnvelope,
} from '../hotel-event';
import { roomFields } from '../rooms/projection';

export type ReservationStatus =
  'pending' | 'confirmed' | 'checkedIn' | 'checkedOut' | 'cancelled' | 'expired';

/** The guest as a reservation shows it, versioned by the customer stream. */
export interface GuestPart extends Versioned {
  readonly id: string;
  readonly name: string | null;
  readonly email: string | null;
}

/** The room as a reservation shows it, versioned by the room stream. */
export interface RoomPart extends Versioned {
  readonly id: string;
  readonly hotel: string | null;
  readonly city: string | null;
  readonly number: string | null;
  readonly roomType: string | null;
}

/**
 * A document of the `reservations` read model. Besides the reservations themselves
 * (`kind: 'reservation'`, versioned by the reservation stream) the index holds one
 * reference document per customer (`customer:<id>`) and room (`room:<id>`) with the part
 * a reservation shows: a reservation placed after its customer's events copies it, and a
 * customer event updates its reference and every reservation of that customer. Each part
 * carries its own stream's versions, so the join converges whatever order the streams'
 * events arrive in, and the read model is rebuilt from its own events alone.
 */
export interface ReservationDocument extends Versioned {
  readonly kind: 'reservation' | 'customer' | 'room';
  readonly id: string;
  readonly status: ReservationStatus | null;
  readonly checkIn: string | null;
  readonly checkOut: string | null;
  readonly nights: number | null;
  readonly guests: number | null;
  readonly ratePerNight: number | null;
  readonly totalPrice: number | null;
  readonly cancellationReason: string | null;
  readonly placedAt: string | null;
  readonly updatedAt: string | null;
  readonly customer: GuestPart | null;
  readonly room: RoomPart | null;
}

export const customerRefId = (customerId: string) => `customer:${customerId}`;
export const roomRefId = (roomId: string) => `room:${roomId}`;

function emptyDocument(kind: ReservationDocument['kind'], id: string): ReservationDocument {
  return {
    kind,
    id,
    status: null,
    checkIn: null,
    checkOut: null,
    nights: null,
    guests: null,
    ratePerNight: null,
    totalPrice: null,
    cancellationReason: null,
    placedAt: null,
    updatedAt: null,
    customer: null,
    room: null,
    version: 0,
    fieldVersions: {},
  };
}

const emptyGuest = (id: string): GuestPart => ({
  id,
  name: null,
  email: null,
  version: 0,
  fieldVersions: {},
});

const emptyRoomPart = (id: string): RoomPart => ({
  id,
  hotel: null,
  city: null,
  number: null,
  roomType: null,
  version: 0,
  fieldVersions: {},
});

function reservationFields(event: ReservationEnvelope): Partial<ReservationDocument> {
  switch (event.type) {
    case 'ReservationPlaced':
      return {
        status: 'pending',
        checkIn: event.data.checkIn,
        checkOut: event.data.checkOut,
        nights: event.data.nights,
        guests: event.data.guests,
        ratePerNight: event.data.ratePerNight,
        totalPrice: event.data.totalPrice,
        placedAt: event.occurredAt,
      };
    case 'ReservationConfirmed':
      return { status: 'confirmed' };
    case 'ReservationCancelled':
      return { status: 'cancelled', cancellationReason: event.data.reason ?? null };
    case 'GuestCheckedIn':
      return { status: 'checkedIn' };
    case 'GuestCheckedOut':
      return { status: 'checkedOut' };
    case 'ReservationExpired':
      return { status: 'expired' };
  }
}

function guestFields(event: CustomerEnvelope): Partial<GuestPart> | undefined {
  const f = customerFields(event);
  const picked = {
    ...('name' in f ? { name: f.name } : {}),
    ...('email' in f ? { email: f.email } : {}),
  };
  return Object.keys(picked).length > 0 ? picked : undefined;
}

function roomPartFields(event: RoomEnvelope): Partial<RoomPart> | undefined {
  if (event.type !== 'RoomRegistered') return undefined; // later room events change nothing shown
  const f = roomFields(event);
  return { hotel: f.hotel, city: f.city, number: f.number, roomType: f.roomType };
}

function evolveReservation(
  doc: ReservationDocument | undefined,
  event: ReservationEnvelope,
  ctx: ProjectionContext<ReservationDocument>,
): ReservationDocument | undefined {
  const base = doc ?? emptyDocument('reservation', event.streamId);
  const next = assignNewer(base, event.version, {
    ...reservationFields(event),
    updatedAt: event.occurredAt,
  });
  if (event.type !== 'ReservationPlaced') return next;
  // The guest and room parts: whatever their references already know, else just the ids
  // (the customer's or room's own events fill them in when they arrive). Also for a
  // placement applied again: the engine re-applies it when a reference changed while the
  // reservation was written (write-then-verify, docs/scaling.md).
  const { customerId, roomId } = event.data;
  const guestRef = ctx.lookup(customerRefId(customerId))?.customer;
  const roomRef = ctx.lookup(roomRefId(roomId))?.room;
  const placed = next ?? base;
  const customer = joinPart(placed.customer ?? emptyGuest(customerId), guestRef);
  const room = joinPart(placed.room ?? emptyRoomPart(roomId), roomRef);
  if (!next && samePart(customer, base.customer) && samePart(room, base.room)) return undefined;
  return { ...placed, customer, room };
}

function joinPart<T extends Versioned>(part: T, ref: T | null | undefined): T {
  return ref ? mergeNewer(part, ref) : part;
}

/** The same fields at the same versions (a join that changed nothing). */
function samePart(a: Versioned | null, b: Versioned | null): boolean {
  if (!a || !b) return a === b;
  const av = Object.entries(a.fieldVersions);
  return (
    av.length === Object.keys(b.fieldVersions).length &&
    av.every(([f, v]) => b.fieldVersions[f] === v)
  );
}

export const reservationsProjection: ReadModelProjection<ReservationDocument> = {
  name: 'reservations',
  streamTypes: ['reservation', 'customer', 'room'],
  ownStreamType: 'reservation',
  targets(event) {
    if (isReservationEvent(event)) return [{ id: event.streamId }];
    if (isCustomerEvent(event) && guestFields(event)) {
      return [
        { id: customerRefId(event.streamId) },
        { field: 'customer.id', value: event.streamId },
      ];
    }
    if (isRoomEvent(event) && roomPartFields(event)) {
      return [{ id: roomRefId(event.streamId) }, { field: 'room.id', value: event.streamId }];
    }
    return [];
  },
  lookups(event) {
    if (!isReservationEvent(event) || event.type !== 'ReservationPlaced') return [];
    return [customerRefId(event.data.customerId), roomRefId(event.data.roomId)];
  },
  evolve(doc, event, ctx) {
    if (isReservationEvent(event)) return evolveReservation(doc, event, ctx);
    if (isCustomerEvent(event)) {
      const fields = guestFields(event);
      const base = doc ?? emptyDocument('customer', ctx.id);
      const guest =
        fields && assignNewer(base.customer ?? emptyGuest(event.streamId), event.version, fields);
      return guest ? { ...base, customer: guest } : undefined;
    }
    if (isRoomEvent(event)) {
      const fields = roomPartFields(event);
      const base = doc ?? emptyDocument('room', ctx.id);
      const room =
        fields && assignNewer(base.room ?? emptyRoomPart(event.streamId), event.version, fields);
      return room ? { ...base, room } : undefined;
    }
    return undefined;
  },
};
