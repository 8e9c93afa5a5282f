import type { Versioned } from '@cqrs/search';
import { isRoomEvent, type RoomEnvelope } from '../hotel-event';
import { streamDocuments } from '../stream-document';

/** The `rooms` read model: one document per room stream. */
export interface RoomView extends Versioned {
  readonly id: string;
  readonly hotel: string | null;
  readonly city: string | null;
  readonly number: string | null;
  readonly roomType: string | null;
  readonly capacity: number | null;
  readonly ratePerNight: number | null;
  readonly status: 'available' | 'retired' | null;
  readonly updatedAt: string | null;
}

/** The room fields each room event sets (shared with the reservations' join). */
export function roomFields(event: RoomEnvelope): Partial<RoomView> {
  switch (event.type) {
    case 'RoomRegistered':
      return {
        hotel: event.data.hotel,
        city: event.data.city,
        number: event.data.number,
        roomType: event.data.roomType,
        capacity: event.data.capacity,
        ratePerNight: event.data.ratePerNight,
        status: 'available',
      };
    case 'RoomRateChanged':
      return { ratePerNight: event.data.ratePerNight };
    case 'RoomRetired':
      return { status: 'retired' };
  }
}

export function emptyRoom(id: string): RoomView {
  return {
    id,
    hotel: null,
    city: null,
    number: null,
    roomType: null,
    capacity: null,
    ratePerNight: null,
    status: null,
    updatedAt: null,
    version: 0,
    fieldVersions: {},
  };
}

export const roomsProjection = streamDocuments({
  name: 'rooms',
  streamType: 'room',
  isEvent: isRoomEvent,
  empty: emptyRoom,
  fields: roomFields,
});
