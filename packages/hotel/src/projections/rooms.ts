import type { EventEnvelope, ReadModelProjection } from '@cqrs/core';
import { assignNewer, num, text, type Versioned } from './versioned';

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
export function roomFields(event: EventEnvelope): Partial<RoomView> | undefined {
  const d = event.data;
  switch (event.type) {
    case 'RoomRegistered':
      return {
        hotel: text(d, 'hotel'),
        city: text(d, 'city'),
        // Room numbers are labels ("101", "12B"), whatever type the client sent.
        number: d.number === undefined || d.number === null ? null : String(d.number),
        roomType: text(d, 'roomType'),
        capacity: num(d, 'capacity'),
        ratePerNight: num(d, 'ratePerNight'),
        status: 'available',
      };
    case 'RoomRateChanged':
      return { ratePerNight: num(d, 'ratePerNight') };
    case 'RoomRetired':
      return { status: 'retired' };
    default:
      return undefined;
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

export const roomsProjection: ReadModelProjection<RoomView> = {
  name: 'rooms',
  streamTypes: ['room'],
  ownStreamType: 'room',
  targets: (event) =>
    event.streamType === 'room' && roomFields(event) ? [{ id: event.streamId }] : [],
  evolve(doc, event) {
    const fields = roomFields(event);
    if (!fields) return undefined;
    return assignNewer(doc ?? emptyRoom(event.streamId), event.version, {
      ...fields,
      updatedAt: event.occurredAt,
    });
  },
};
