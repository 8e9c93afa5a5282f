import type { EventEnvelope, ReadModelProjection } from '@cqrs/core';
import { assignNewer, type Versioned } from '@cqrs/search';

interface StreamDocument extends Versioned {
  readonly updatedAt: string | null;
}

export interface StreamDocumentsOptions<TDoc extends StreamDocument, E extends EventEnvelope> {
  readonly name: string;
  readonly streamType: string;
  /** Narrows to the stream's events (see hotel-event.ts). */
  readonly isEvent: (event: EventEnvelope) => event is E;
  readonly empty: (id: string) => TDoc;
  /** The fields each event sets. */
  readonly fields: (event: E) => Partial<TDoc>;
}

/**
 * A read model of one document per stream, keyed by stream id: every event of the stream
 * sets its fields (newer versions win, see `assignNewer`) and `updatedAt`.
 */
export function streamDocuments<TDoc extends StreamDocument, E extends EventEnvelope>(
  opts: StreamDocumentsOptions<TDoc, E>,
): ReadModelProjection<TDoc> {
  return {
    name: opts.name,
    streamTypes: [opts.streamType],
    ownStreamType: opts.streamType,
    targets: (event) => (opts.isEvent(event) ? [{ id: event.streamId }] : []),
    evolve(doc, event) {
      if (!opts.isEvent(event)) return undefined;
      return assignNewer(doc ?? opts.empty(event.streamId), event.version, {
        ...opts.fields(event),
        updatedAt: event.occurredAt,
      } as Partial<Omit<TDoc, keyof Versioned>>);
    },
  };
}
