import type { CustomerView, EventLogEntry, ReservationDocument, RoomView } from '@cqrs/hotel';
import { Type, type Static } from '@sinclair/typebox';
import { Nullable } from './routes/common';

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

export function reservationView(d: ReservationDocument): ReservationResponse {
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

export const CustomerResponse = Type.Object({
  id: Type.String(),
  name: S,
  email: S,
  phone: S,
  status: S,
  registeredAt: S,
  version: Type.Integer(),
  updatedAt: S,
});
export type CustomerResponse = Static<typeof CustomerResponse>;

export const customerView = (d: CustomerView): CustomerResponse => ({
  id: d.id,
  name: d.name,
  email: d.email,
  phone: d.phone,
  status: d.status,
  registeredAt: d.registeredAt,
  version: d.version,
  updatedAt: d.updatedAt,
});

export const RoomResponse = Type.Object({
  id: Type.String(),
  hotel: S,
  city: S,
  number: S,
  roomType: S,
  capacity: N,
  ratePerNight: N,
  status: S,
  version: Type.Integer(),
  updatedAt: S,
});
export type RoomResponse = Static<typeof RoomResponse>;

export const roomView = (d: RoomView): RoomResponse => ({
  id: d.id,
  hotel: d.hotel,
  city: d.city,
  number: d.number,
  roomType: d.roomType,
  capacity: d.capacity,
  ratePerNight: d.ratePerNight,
  status: d.status,
  version: d.version,
  updatedAt: d.updatedAt,
});

export const EventResponse = Type.Object({
  eventId: Type.String(),
  streamType: Type.String(),
  streamId: Type.String(),
  version: Type.Integer(),
  position: Type.String(),
  type: Type.String(),
  schemaVersion: Type.Integer(),
  occurredAt: Type.String(),
  data: Type.Record(Type.String(), Type.Unknown()),
  metadata: Type.Record(Type.String(), Type.Unknown()),
});

export const eventView = (d: EventLogEntry) => ({ ...d, position: String(d.position) });
