import type { EventEnvelope, ReadModelProjection } from '@cqrs/core';

/** The `events` read model: every event as it was published, keyed by event id. */
export interface EventLogEntry {
  readonly eventId: string;
  readonly streamType: string;
  readonly streamId: string;
  readonly version: number;
  /** Kept as a string: global positions may exceed 2^53. */
  readonly position: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly occurredAt: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export const eventLogProjection: ReadModelProjection<EventLogEntry> = {
  name: 'events',
  streamTypes: [],
  appendOnly: true,
  targets: (event) => [{ id: event.eventId }],
  // An event never changes: a redelivery finds its document and changes nothing.
  evolve: (doc, event: EventEnvelope) =>
    doc
      ? undefined
      : {
          eventId: event.eventId,
          streamType: event.streamType,
          streamId: event.streamId,
          version: event.version,
          position: event.position,
          type: event.type,
          schemaVersion: event.schemaVersion,
          occurredAt: event.occurredAt,
          data: event.data,
          metadata: event.metadata,
        },
};
