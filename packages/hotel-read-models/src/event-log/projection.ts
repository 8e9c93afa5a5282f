import { eventMessageBody, type EventEnvelope, type ReadModelProjection } from '@cqrs/core';

/**
 * The `events` read model: every event as it was published (the body of its message),
 * keyed by event id; the position stays a string (global positions may exceed 2^53).
 */
export type EventLogEntry = EventEnvelope;

export const eventLogProjection: ReadModelProjection<EventLogEntry> = {
  name: 'events',
  streamTypes: [],
  appendOnly: true,
  targets: (event) => [{ id: event.eventId }],
  // An event never changes: a redelivery finds its document and changes nothing.
  evolve: (doc, event: EventEnvelope) =>
    doc ? undefined : { ...eventMessageBody(event), position: event.position },
};
