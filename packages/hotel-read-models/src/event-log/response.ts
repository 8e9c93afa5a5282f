import { ListResponse } from '@cqrs/search';
import { Type, type Static } from '@sinclair/typebox';
import type { EventLogEntry } from './projection';

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
export type EventResponse = Static<typeof EventResponse>;

export const EventListResponse = ListResponse(EventResponse);

export const eventResponse = (d: EventLogEntry): EventResponse => ({
  ...d,
  position: String(d.position),
});
