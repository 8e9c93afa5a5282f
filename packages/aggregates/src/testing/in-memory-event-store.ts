import {
  ClaimConflictError,
  ConcurrencyConflictError,
  IdempotencyConflictError,
  type AppendRequest,
  type AppendResult,
  type ClaimKey,
  type DeadlineSchedule,
  type DeadlineStats,
  type DeadlineStorePort,
  type DueDeadline,
  type EventEnvelope,
  type EventStorePort,
  type IdempotencyRecord,
  type SnapshotRecord,
} from '@cqrs/core';

interface StoredDeadline extends DeadlineSchedule {
  readonly streamType: string;
  readonly streamId: string;
  fireAt: number;
  leaseToken?: string;
}

/**
 * An EventStorePort in memory with the same contract as the MySQL store: optimistic
 * concurrency on (stream, version), idempotency records, claims and deadlines written with
 * the events, snapshots. For unit tests of the runtime and of anything built on it.
 */
export class InMemoryEventStore implements EventStorePort, DeadlineStorePort {
  private readonly streams = new Map<string, EventEnvelope[]>();
  /** `scope\nkey` -> owner stream. */
  private readonly heldClaims = new Map<string, string>();
  private readonly storedDeadlines = new Map<string, StoredDeadline>();
  private leases = 0;
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
    this.writeClaims(k, request);
    this.writeDeadlines(request);
    const occurredAt = this.now().toISOString();
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

  async claimDue(limit: number, leaseMs: number): Promise<readonly DueDeadline[]> {
    await Promise.resolve();
    const now = this.now().getTime();
    const due = [...this.storedDeadlines.values()]
      .filter((d) => d.fireAt <= now)
      .sort((a, b) => a.fireAt - b.fireAt)
      .slice(0, limit);
    const token = `lease-${++this.leases}`;
    for (const d of due) {
      d.fireAt = now + leaseMs;
      d.leaseToken = token;
    }
    return due.map((d) => ({
      streamType: d.streamType,
      streamId: d.streamId,
      name: d.name,
      command: d.command,
      dueAt: d.dueAt,
      leaseToken: token,
    }));
  }

  async completeDeadline(deadline: DueDeadline): Promise<void> {
    await Promise.resolve();
    const k = deadlineKey(deadline.streamType, deadline.streamId, deadline.name);
    if (this.storedDeadlines.get(k)?.leaseToken === deadline.leaseToken) {
      this.storedDeadlines.delete(k);
    }
  }

  async deadlineStats(): Promise<DeadlineStats> {
    await Promise.resolve();
    const now = this.now().getTime();
    const due = [...this.storedDeadlines.values()]
      .filter((d) => d.dueAt.getTime() <= now)
      .map((d) => d.dueAt.getTime());
    return due.length > 0
      ? { due: due.length, oldestDueAt: new Date(Math.min(...due)) }
      : { due: 0 };
  }

  /** Test helper: the keys held, as `scope/key -> owner stream`. */
  claims(): ReadonlyMap<string, string> {
    return new Map([...this.heldClaims].map(([k, owner]) => [k.replace('\n', ':'), owner]));
  }

  /** Test helper: the scheduled deadlines. */
  deadlines(): readonly (DeadlineSchedule & { streamType: string; streamId: string })[] {
    return [...this.storedDeadlines.values()].map((d) => ({
      streamType: d.streamType,
      streamId: d.streamId,
      name: d.name,
      command: d.command,
      dueAt: d.dueAt,
    }));
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  private writeClaims(owner: string, request: AppendRequest): void {
    const claims = request.claims;
    if (!claims) return;
    const id = (c: ClaimKey) => `${c.scope}\n${c.key}`;
    const released = new Set(
      claims.release.map(id).filter((c) => this.heldClaims.get(c) === owner),
    );
    const taken = claims.acquire.filter((c) => {
      const holder = this.heldClaims.get(id(c));
      return holder !== undefined && holder !== owner && !released.has(id(c));
    });
    if (taken.length > 0) throw new ClaimConflictError(owner, taken);
    for (const c of released) this.heldClaims.delete(c);
    for (const c of claims.acquire) this.heldClaims.set(id(c), owner);
  }

  private writeDeadlines(request: AppendRequest): void {
    const deadlines = request.deadlines;
    if (!deadlines) return;
    const { streamType, streamId } = request;
    for (const name of deadlines.cancel) {
      this.storedDeadlines.delete(deadlineKey(streamType, streamId, name));
    }
    for (const d of deadlines.schedule) {
      this.storedDeadlines.set(deadlineKey(streamType, streamId, d.name), {
        ...d,
        streamType,
        streamId,
        fireAt: d.dueAt.getTime(),
      });
    }
  }

  /** Test helper: every stored event of a stream, synchronously. */
  events(streamType: string, streamId: string): readonly EventEnvelope[] {
    return this.streams.get(key(streamType, streamId)) ?? [];
  }
}

function deadlineKey(streamType: string, streamId: string, name: string): string {
  return `${streamType}:${streamId}/${name}`;
}

function key(streamType: string, streamId: string): string {
  return `${streamType}:${streamId}`;
}
