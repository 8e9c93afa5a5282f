import { ListResponse, Nullable } from '@cqrs/search';
import { Type, type Static } from '@sinclair/typebox';
import { RoomResponse, roomResponse } from '../rooms/response';
import type { AvailabilityDocument } from './projection';

/** A free room: the room view, the nights of the stay and what they cost at its rate now. */
export const AvailableRoomResponse = Type.Composite([
  RoomResponse,
  Type.Object({ nights: Type.Integer(), totalPrice: Nullable(Type.Number()) }),
]);
export type AvailableRoomResponse = Static<typeof AvailableRoomResponse>;

export const AvailabilityListResponse = ListResponse(AvailableRoomResponse);

export const availableRoom = (d: AvailabilityDocument, nights: number): AvailableRoomResponse => ({
  ...roomResponse(d),
  nights,
  totalPrice: d.ratePerNight === null ? null : d.ratePerNight * nights,
});
