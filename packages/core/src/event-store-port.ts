import type { EventEnvelope, EventMetadata } from './messages';

/**
 * The contract between the aggregate runtime (packages/aggregates) and the event store
 * (packages/event-store). The runtime depends on this interface, not on Knex.
 */
export interface NewEvent {
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** Defaults to 1. Bumped when an event's shape changes; upcasters read old versions. */
  readonly schemaVersion?: number;
}

export interface AppendRequest {
  readonly streamType: string;
  readonly streamId: string;
  /** The version the decision was based on; 0 = the stream must not exist yet. */
  readonly expectedVersion: number;
  readonly events: readonly NewEvent[];
  /** Stored on every event (correlation id, causation id, idempotency key, actor, trace context). */
  readonly metadata: EventMetadata;
  /** Recorded in the same transaction as the events (see IdempotencyRecord). */
  readonly idempotency?: { readonly key: string; readonly fingerprint: string };
}

export interface AppendedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly version: number;
  readonly position: string;
}

export interface AppendResult {
  readonly streamType: string;
  readonly streamId: string;
  /** Version of the last appended event. */
  readonly version: number;
  /** Global position of the last appended event (decimal string). */
  readonly position: string;
  readonly events: readonly AppendedEvent[];
}

export interface IdempotencyRecord {
  readonly key: string;
  readonly fingerprint: string;
  readonly result: AppendResult;
}

export interface SnapshotRecord {
  readonly streamType: string;
  readonly streamId: string;
  readonly version: number;
  /** The aggregate's persisted state (JSON-serialisable). */
  readonly state: unknown;
  /** Version of the snapshot's shape; a snapshot of another schema version is ignored. */
  readonly schemaVersion: number;
}

export interface EventStorePort {
  /** Events with version > afterVersion, in order. */
  readStream(streamType: string, streamId: string, afterVersion?: number): Promise<EventEnvelope[]>;
  /**
   * Appends atomically: events, their outbox rows and the idempotency record in one
   * transaction. Throws ConcurrencyConflictError when the stream is not at expectedVersion,
   * IdempotencyConflictError('mismatch') when the key was recorded with another fingerprint.
   */
  appendToStream(request: AppendRequest): Promise<AppendResult>;
  loadSnapshot(streamType: string, streamId: string): Promise<SnapshotRecord | undefined>;
  saveSnapshot(snapshot: SnapshotRecord): Promise<void>;
  findIdempotencyRecord(key: string): Promise<IdempotencyRecord | undefined>;
}
