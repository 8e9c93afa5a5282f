import { ListResponse, Nullable } from '@cqrs/search';
import { Type, type Static } from '@sinclair/typebox';
import type { RoomView } from './projection';

const S = Nullable(Type.String());
const N = Nullable(Type.Number());

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

export const RoomListResponse = ListResponse(RoomResponse);

export const roomResponse = (d: RoomView): RoomResponse => ({
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
