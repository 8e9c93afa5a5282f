import type { EventUnion } from '@cqrs/aggregates';
import { Type } from '@sinclair/typebox';

export const RoomTypes = ['single', 'double', 'suite'] as const;
export type RoomType = (typeof RoomTypes)[number];

/** The room's events (schema version 1), as agreed with the read side. */
export const RoomEvents = {
  RoomRegistered: Type.Object({
    hotel: Type.String(),
    city: Type.String(),
    /** A label ("101", "12B"): always a string in the event, whatever the client sent. */
    number: Type.String(),
    roomType: Type.Union(RoomTypes.map((t) => Type.Literal(t))),
    capacity: Type.Integer(),
    ratePerNight: Type.Integer(),
  }),
  RoomRateChanged: Type.Object({ ratePerNight: Type.Integer() }),
  RoomRetired: Type.Object({}),
};

export type RoomEvent = EventUnion<typeof RoomEvents>;
