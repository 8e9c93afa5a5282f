import {
  systemClock,
  uuidV7,
  type AppendRequest,
  type AppendResult,
  type Clock,
  type EventEnvelope,
  type EventStorePort,
  type IdGenerator,
  type IdempotencyRecord,
  type SnapshotRecord,
} from '@cqrs/core';
import type { Knex } from 'knex';
import { appendToStream, currentVersion, type AppendDeps } from './append';
import { rethrowAsUnavailable } from './db-errors';
import {
  claimIdempotencyKey,
  findIdempotencyRecord,
  purgeExpiredIdempotencyKeys,
  releaseIdempotencyKey,
  type IdempotencyClaim,
} from './idempotency';
import { headPosition, readAll, readStream, type ReadAllOptions } from './read';
import { loadSnapshot, saveSnapshot } from './snapshots';

export interface MySqlEventStoreOptions {
  /** Event ids and claim tokens (default: UUIDv7). */
  readonly ids?: IdGenerator;
  /** occurredAt of events, idempotency timestamps (default: the system clock). */
  readonly clock?: Clock;
  /** How long a completed Idempotency-Key replays its result (default 24 h). */
  readonly idempotencyTtlMs?: number;
  /** How long a claimed key may stay in flight before another request may take it (default 30 s). */
  readonly idempotencyLeaseMs?: number;
}

/**
 * The event store on MySQL 8 / MariaDB 10.6+: the EventStorePort the aggregate runtime uses,
 * plus the idempotency claim protocol and readers for the HTTP layer. Stateless apart from
 * the pool: any number of processes may share one database.
 */
export class MySqlEventStore implements EventStorePort {
  private readonly deps: AppendDeps;
  private step: Promise<bigint> | undefined;

  constructor(
    private readonly knex: Knex,
    options: MySqlEventStoreOptions = {},
  ) {
    this.deps = {
      ids: options.ids ?? uuidV7,
      clock: options.clock ?? systemClock,
      ttlMs: options.idempotencyTtlMs ?? 24 * 60 * 60 * 1000,
      leaseMs: options.idempotencyLeaseMs ?? 30_000,
      positionStep: () => (this.step ??= this.readPositionStep()),
    };
  }

  appendToStream(request: AppendRequest): Promise<AppendResult> {
    return appendToStream(this.knex, request, this.deps);
  }

  readStream(streamType: string, streamId: string, afterVersion = 0): Promise<EventEnvelope[]> {
    return guard(readStream(this.knex, streamType, streamId, afterVersion));
  }

  readAll(options?: ReadAllOptions): Promise<EventEnvelope[]> {
    return guard(readAll(this.knex, options));
  }

  headPosition(): Promise<string> {
    return guard(headPosition(this.knex));
  }

  currentVersion(streamType: string, streamId: string): Promise<number> {
    return guard(currentVersion(this.knex, streamType, streamId));
  }

  loadSnapshot(streamType: string, streamId: string): Promise<SnapshotRecord | undefined> {
    return guard(loadSnapshot(this.knex, streamType, streamId));
  }

  saveSnapshot(snapshot: SnapshotRecord): Promise<void> {
    return guard(saveSnapshot(this.knex, snapshot, this.deps.clock));
  }

  findIdempotencyRecord(key: string): Promise<IdempotencyRecord | undefined> {
    return guard(findIdempotencyRecord(this.knex, key, this.deps.clock.now()));
  }

  /** See idempotency.ts: claim before deciding, then append with the key or release it. */
  claimIdempotencyKey(key: string, fingerprint: string): Promise<IdempotencyClaim> {
    return guard(claimIdempotencyKey(this.knex, key, fingerprint, this.deps));
  }

  releaseIdempotencyKey(claim: Extract<IdempotencyClaim, { kind: 'claimed' }>): Promise<void> {
    return guard(releaseIdempotencyKey(this.knex, claim));
  }

  purgeExpiredIdempotencyKeys(batchSize?: number): Promise<number> {
    return guard(purgeExpiredIdempotencyKeys(this.knex, this.deps.clock.now(), batchSize));
  }

  /** For health checks: resolves when the database answers. */
  async ping(): Promise<void> {
    await guard(this.knex.raw('SELECT 1'));
  }

  private async readPositionStep(): Promise<bigint> {
    try {
      const [rows] = (await this.knex.raw('SELECT @@auto_increment_increment AS step')) as [
        { step: number | string }[],
      ];
      return BigInt(String(rows[0]?.step ?? 1));
    } catch (err) {
      this.step = undefined; // try again on the next append
      return rethrowAsUnavailable(err);
    }
  }
}

async function guard<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    return rethrowAsUnavailable(err);
  }
}
