import {
  ConcurrencyConflictError,
  IdempotencyConflictError,
  type AppendRequest,
  type AppendResult,
  type EventEnvelope,
  type EventStorePort,
  type IdempotencyRecord,
  type SnapshotRecord,
} from '@cqrs/core';

/**
 * An EventStorePort in memory with the same contract as the MySQL store: optimistic
 * concurrency on (stream, version), idempotency records written with the events,
 * snapshots. For unit tests of the runtime and of anything built on it.
 */
export class InMemoryEventStore implements EventStorePort {
  private readonly streams = new Map<string, EventEnvelope[]>();
  private readonly snapshots = new Map<string, SnapshotRecord>();
  private readonly idempotency = new Map<string, IdempotencyRecord>();
  private position = 0;
  private nextEventId = 1;
  /** Calls by operation, so tests can assert round trips (e.g. no read on a warm append). */
  readonly calls = {
    readStream: 0,
    appendToStream: 0,
    loadSnapshot: 0,
    saveSnapshot: 0,
    findIdempotencyRecord: 0,
  };
  conflicts = 0;

  constructor(
    private readonly options: {
      /** Awaited inside each append, to interleave concurrent callers in tests. */
      readonly beforeAppend?: (request: AppendRequest) => Promise<void> | void;
      readonly now?: () => Date;
    } = {},
  ) {}

  async readStream(
    streamType: string,
    streamId: string,
    afterVersion = 0,
  ): Promise<EventEnvelope[]> {
    this.calls.readStream++;
    await Promise.resolve();
    return (this.streams.get(key(streamType, streamId)) ?? []).filter(
      (e) => e.version > afterVersion,
    );
  }

  async appendToStream(request: AppendRequest): Promise<AppendResult> {
    this.calls.appendToStream++;
    await this.options.beforeAppend?.(request);
    const k = key(request.streamType, request.streamId);
    const stream = this.streams.get(k) ?? [];
    if (request.idempotency) {
      const existing = this.idempotency.get(request.idempotency.key);
      if (existing && existing.fingerprint !== request.idempotency.fingerprint) {
        throw new IdempotencyConflictError('mismatch', request.idempotency.key);
      }
      if (existing) return existing.result;
    }
    if (stream.length !== request.expectedVersion) {
      this.conflicts++;
      throw new ConcurrencyConflictError(k, request.expectedVersion, stream.length);
    }
    const occurredAt = (this.options.now?.() ?? new Date()).toISOString();
    const appended = request.events.map((e, i): EventEnvelope => ({
      eventId: `event-${this.nextEventId++}`,
      streamType: request.streamType,
      streamId: request.streamId,
      version: request.expectedVersion + i + 1,
      position: String(++this.position),
      type: e.type,
      schemaVersion: e.schemaVersion ?? 1,
      occurredAt,
      data: e.data,
      metadata: request.metadata,
    }));
    stream.push(...appended);
    this.streams.set(k, stream);
    const last = appended[appended.length - 1]!;
    const result: AppendResult = {
      streamType: request.streamType,
      streamId: request.streamId,
      version: last.version,
      position: last.position,
      events: appended.map((e) => ({
        eventId: e.eventId,
        type: e.type,
        version: e.version,
        position: e.position,
      })),
    };
    if (request.idempotency) {
      this.idempotency.set(request.idempotency.key, { ...request.idempotency, result });
    }
    return result;
  }

  async loadSnapshot(streamType: string, streamId: string): Promise<SnapshotRecord | undefined> {
    this.calls.loadSnapshot++;
    await Promise.resolve();
    return this.snapshots.get(key(streamType, streamId));
  }

  async saveSnapshot(snapshot: SnapshotRecord): Promise<void> {
    this.calls.saveSnapshot++;
    await Promise.resolve();
    const k = key(snapshot.streamType, snapshot.streamId);
    const existing = this.snapshots.get(k);
    // A late writer must not replace a newer snapshot.
    if (!existing || existing.version <= snapshot.version) {
      this.snapshots.set(k, structuredClone(snapshot));
    }
  }

  async findIdempotencyRecord(key: string): Promise<IdempotencyRecord | undefined> {
    this.calls.findIdempotencyRecord++;
    await Promise.resolve();
    return this.idempotency.get(key);
  }

  /** Test helper: every stored event of a stream, synchronously. */
  events(streamType: string, streamId: string): readonly EventEnvelope[] {
    return this.streams.get(key(streamType, streamId)) ?? [];
  }
}

function key(streamType: string, streamId: string): string {
  return `${streamType}:${streamId}`;
}
