import {
  systemClock,
  uuidV7,
  type AppendRequest,
  type AppendResult,
  type Clock,
  type DeadlineStats,
  type DeadlineStorePort,
  type DueDeadline,
  type EventEnvelope,
  type EventStorePort,
  type IdGenerator,
  type IdempotencyClaim,
  type IdempotencyGate,
  type IdempotencyRecord,
  type SnapshotRecord,
} from '@cqrs/core';
import type { Knex } from 'knex';
import { appendToStream, currentVersion, type AppendDeps } from './append';
import { rethrowAsUnavailable } from './db-errors';
import { claimDueDeadlines, completeDeadline, deadlineStats } from './deadlines';
import {
  claimIdempotencyKey,
  findIdempotencyRecord,
  purgeExpiredIdempotencyKeys,
  releaseIdempotencyKey,
  renewIdempotencyClaim,
} from './idempotency';
import { ClaimRenewals } from './claim-renewal';
import { DEFAULT_GROUP_COMMIT, GroupCommitter, type GroupCommitLimits } from './group-commit';
import { headPosition, readAll, readStream, type ReadAllOptions } from './read';
import { loadSnapshot, saveSnapshot } from './snapshots';

export interface MySqlEventStoreOptions {
  /** Event ids and claim tokens (default: UUIDv7). */
  readonly ids?: IdGenerator;
  /** occurredAt of events, idempotency timestamps (default: the system clock). */
  readonly clock?: Clock;
  /** How long a completed Idempotency-Key replays its result (default 24 h). */
  readonly idempotencyTtlMs?: number;
  /**
   * How long a claimed key stays in flight without a renewal before another request may take
   * it (default 5 s). This process renews its claims every third of it while it works on
   * them, so the lease bounds how long a *dead* holder blocks its key, not how long a command
   * may take.
   */
  readonly idempotencyLeaseMs?: number;
  /**
   * Write each event's outbox row in the append's transaction (default true). `false` appends
   * the events alone: for a deployment that relays from the `events` table itself instead of
   * running the outbox relay, and for the benchmark comparing the bare append with event
   * stores that have no outbox. The relay then has nothing to publish.
   */
  readonly outbox?: boolean;
  /**
   * Group commit (docs/event-store.md "Group commit"): at most `maxGroups` append
   * transactions in flight (default 2); appends arriving meanwhile share the next one, up to
   * `maxAppends` (64) of them and `maxBytes` (4 MiB) of values.
   */
  readonly groupCommit?: Partial<GroupCommitLimits>;
}

/**
 * The event store on MySQL 8 / MariaDB 10.6+: the EventStorePort the aggregate runtime uses,
 * plus the idempotency claim protocol and readers for the HTTP layer. Stateless apart from
 * the pool: any number of processes may share one database.
 */
export class MySqlEventStore implements EventStorePort, IdempotencyGate, DeadlineStorePort {
  private readonly deps: AppendDeps;
  private step: Promise<bigint> | undefined;
  private readonly renewals: ClaimRenewals;
  private readonly committer: GroupCommitter;

  constructor(
    private readonly knex: Knex,
    options: MySqlEventStoreOptions = {},
  ) {
    this.deps = {
      ids: options.ids ?? uuidV7,
      clock: options.clock ?? systemClock,
      ttlMs: options.idempotencyTtlMs ?? 24 * 60 * 60 * 1000,
      leaseMs: options.idempotencyLeaseMs ?? 5_000,
      positionStep: () => (this.step ??= this.readPositionStep()),
      outbox: options.outbox ?? true,
    };
    this.committer = new GroupCommitter(knex, { ...DEFAULT_GROUP_COMMIT, ...options.groupCommit });
    this.renewals = new ClaimRenewals(
      (claim) => renewIdempotencyClaim(this.knex, claim, this.deps),
      Math.max(50, Math.floor(this.deps.leaseMs / 3)),
    );
  }

  async appendToStream(request: AppendRequest): Promise<AppendResult> {
    const result = await appendToStream(this.knex, this.committer, request, this.deps);
    // The append completed the claim (or replayed the one that beat it): nothing to renew.
    if (request.idempotency) this.renewals.drop(request.idempotency.key);
    return result;
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
  async claimIdempotencyKey(key: string, fingerprint: string): Promise<IdempotencyClaim> {
    const claim = await guard(claimIdempotencyKey(this.knex, key, fingerprint, this.deps));
    if (claim.kind === 'claimed') this.renewals.hold(claim);
    return claim;
  }

  releaseIdempotencyKey(claim: Extract<IdempotencyClaim, { kind: 'claimed' }>): Promise<void> {
    this.renewals.drop(claim.key, claim.token);
    return guard(releaseIdempotencyKey(this.knex, claim));
  }

  /** Claims this process holds and renews now. */
  get heldIdempotencyClaims(): number {
    return this.renewals.size;
  }

  purgeExpiredIdempotencyKeys(batchSize?: number): Promise<number> {
    return guard(purgeExpiredIdempotencyKeys(this.knex, this.deps.clock.now(), batchSize));
  }

  claimDue(limit: number, leaseMs: number): Promise<readonly DueDeadline[]> {
    return guard(
      claimDueDeadlines(this.knex, this.deps.clock.now(), limit, leaseMs, this.deps.ids),
    );
  }

  completeDeadline(deadline: DueDeadline): Promise<void> {
    return guard(completeDeadline(this.knex, deadline));
  }

  deadlineStats(): Promise<DeadlineStats> {
    return guard(deadlineStats(this.knex, this.deps.clock.now()));
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
