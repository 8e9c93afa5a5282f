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
  /**
   * Unique keys the events take or give back (docs/room-calendar.md), written in the same
   * transaction: a key another stream holds fails the whole append with ClaimConflictError.
   */
  readonly claims?: ClaimChanges;
  /** Durable deadlines the events start or stop, written in the same transaction. */
  readonly deadlines?: DeadlineChanges;
}

/** A unique key in a named scope, e.g. `{ scope: 'room-night', key: 'room-1/2030-05-01' }`. */
export interface ClaimKey {
  readonly scope: string;
  readonly key: string;
}

export interface ClaimChanges {
  /** Keys this stream now holds; each must be free (or already this stream's). */
  readonly acquire: readonly ClaimKey[];
  /** Keys this stream held and gives back (keys it does not hold are ignored). */
  readonly release: readonly ClaimKey[];
}

/**
 * A deadline of one stream (a delayed transition of its statechart, made durable): when
 * `dueAt` passes, a deadline worker sends `command` to the stream.
 */
export interface DeadlineSchedule {
  /** Unique per stream, e.g. `pending.reservationHold`. */
  readonly name: string;
  readonly dueAt: Date;
  readonly command: string;
}

export interface DeadlineChanges {
  /** Deadlines of the states the events left: deleted. */
  readonly cancel: readonly string[];
  /** Deadlines of the states the events entered: inserted (or replaced). */
  readonly schedule: readonly DeadlineSchedule[];
}

/** A deadline a worker has leased: it fires it, then the append that follows deletes it. */
export interface DueDeadline {
  readonly streamType: string;
  readonly streamId: string;
  readonly name: string;
  readonly command: string;
  readonly dueAt: Date;
  /** Proves the lease when the worker finishes the row itself (see DeadlineStorePort). */
  readonly leaseToken: string;
}

export interface DeadlineStats {
  /** Deadlines whose time has come (fired or not yet). */
  readonly due: number;
  /** dueAt of the oldest of them; undefined when none is due. */
  readonly oldestDueAt?: Date;
}

/**
 * The storage side of durable deadlines. `claimDue` leases due rows with `FOR UPDATE SKIP
 * LOCKED` and commits the lease at once (no row lock is held while the command runs): if the
 * worker dies, the lease runs out and another process claims the row again.
 */
export interface DeadlineStorePort {
  claimDue(limit: number, leaseMs: number): Promise<readonly DueDeadline[]>;
  /** Removes a leased row the stream no longer needs (the command was refused as moot). */
  completeDeadline(deadline: DueDeadline): Promise<void>;
  deadlineStats(): Promise<DeadlineStats>;
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
   * IdempotencyConflictError('mismatch') when the key was recorded with another fingerprint,
   * ClaimConflictError when another stream holds a key the request acquires.
   */
  appendToStream(request: AppendRequest): Promise<AppendResult>;
  loadSnapshot(streamType: string, streamId: string): Promise<SnapshotRecord | undefined>;
  saveSnapshot(snapshot: SnapshotRecord): Promise<void>;
  findIdempotencyRecord(key: string): Promise<IdempotencyRecord | undefined>;
}
