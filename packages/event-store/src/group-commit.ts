import type { AppendResult } from '@cqrs/core';
import type { Knex } from 'knex';
import {
  batch,
  rollback,
  withConnection,
  type PooledConnection,
  type ResultHeader,
  type Statement,
} from './connection';
import { isConnectionFailure, isDeadlock, isDuplicateKey } from './db-errors';
import { IdempotencyKeyTaken } from './idempotency';

/**
 * One append, ready to run inside someone's transaction (docs/event-store.md "Group commit").
 * Its statements write nothing outside its own stream, keys and claims, return no rows, and
 * the first inserts its events (its insert id is the first position).
 */
export interface PreparedAppend {
  readonly statements: readonly Statement[];
  /**
   * With an Idempotency-Key: `statements[1]` is the UPDATE completing the key, and this the
   * same list with the completed row INSERTed instead - for when the UPDATE matched nothing.
   */
  readonly insertingKey?: readonly Statement[];
  readonly key?: string;
  /** Roughly what its values weigh on the wire (the group's packet budget). */
  readonly bytes: number;
  resultOf(firstPosition: bigint): AppendResult;
}

export interface GroupCommitLimits {
  /** Transactions in flight at once; appends arriving meanwhile wait and go together. */
  readonly maxGroups: number;
  /** Appends per transaction. */
  readonly maxAppends: number;
  /** Sum of the appends' `bytes` per transaction (a lone larger append still goes). */
  readonly maxBytes: number;
}

export const DEFAULT_GROUP_COMMIT: GroupCommitLimits = {
  maxGroups: 2,
  maxAppends: 64,
  maxBytes: 4 * 1024 * 1024,
};

/**
 * The whole group's transaction was rolled back (deadlock, or a savepoint gone with it):
 * nothing of this append was written, and running it again is safe.
 */
export class GroupRolledBack extends Error {
  constructor(override readonly cause: unknown) {
    super(`The group's transaction was rolled back: ${(cause as Error)?.message}`, { cause });
  }
}

interface Member {
  readonly append: PreparedAppend;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (err: unknown) => void;
  /** Completes its key by INSERT (its UPDATE matched nothing). */
  insertKey: boolean;
  keyMissed?: boolean;
  result?: AppendResult;
  error?: unknown;
}

const BEGIN: Statement = { sql: 'START TRANSACTION', values: [] };
const COMMIT: Statement = { sql: 'COMMIT', values: [] };
const savepoint = (i: number): Statement => ({ sql: `SAVEPOINT a${i}`, values: [] });
const rollbackTo = (i: number): Statement => ({ sql: `ROLLBACK TO SAVEPOINT a${i}`, values: [] });

/**
 * Group commit: while `maxGroups` transactions are in flight, appends queue; when one ends,
 * every queued append (up to the limits) goes in the next transaction, each behind its own
 * savepoint, with one COMMIT - one log flush for all. An append that finds a free slot goes
 * at once, alone: nothing waits on a timer.
 *
 * Each append keeps its own outcome. A failing statement (duplicate version, taken claim or
 * key, lock wait timeout) stops the batch at that append: the next round trip rolls back to
 * its savepoint and runs the appends after it, and it alone fails with its own error. A
 * rollback of the whole transaction (deadlock) fails every append of the group with
 * GroupRolledBack, which the append retries; a lost connection fails every one of them as
 * unavailable, as it does a lone append. Nobody hears of success before the COMMIT is
 * acknowledged, nor of a failure before the transaction is over (so what the caller then
 * reads to explain it is settled).
 */
export class GroupCommitter {
  private readonly queue: Member[] = [];
  private inFlight = 0;

  constructor(
    private readonly knex: Knex,
    private readonly limits: GroupCommitLimits = DEFAULT_GROUP_COMMIT,
  ) {}

  commit(append: PreparedAppend): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ append, resolve, reject, insertKey: false });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.limits.maxGroups && this.queue.length > 0) {
      const group = this.take();
      this.inFlight++;
      void this.run(group).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private take(): Member[] {
    let bytes = this.queue[0]!.append.bytes;
    let n = 1;
    while (n < this.queue.length && n < this.limits.maxAppends) {
      bytes += this.queue[n]!.append.bytes;
      if (bytes > this.limits.maxBytes) break;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private async run(group: Member[]): Promise<void> {
    try {
      await withConnection(this.knex, (connection) => transaction(connection, group));
    } catch (err) {
      // No connection to run them on (transaction() itself settles every member it ran).
      for (const m of group) if (m.result === undefined) m.error ??= err;
    }
    for (const m of group) {
      if (m.error !== undefined) m.reject(m.error);
      else m.resolve(m.result!);
    }
  }
}

/**
 * Runs the group in one transaction and leaves each member's result or error on it. Round
 * trips: one when nothing fails; one more per failing append; with keys, one more for the
 * COMMIT once the key UPDATEs' affected rows are known.
 */
async function transaction(connection: PooledConnection, group: Member[]): Promise<void> {
  const lone = group.length === 1 ? group[0]! : undefined;
  if (lone && !lone.append.insertingKey && lone.append.statements.length === 1) {
    // The events alone ({ outbox: false }, no key, claims or deadlines): one INSERT is atomic
    // by itself, so it goes without a transaction around it.
    const { results, error } = await batch(connection, lone.append.statements);
    if (error === undefined) lone.result = lone.append.resultOf(first(results[0]));
    else lone.error = isDeadlock(error) ? new GroupRolledBack(error) : error;
    return;
  }
  let from = 0; // the first member to run in the next round trip
  let prefix: Statement[] = [BEGIN];
  for (;;) {
    const statements = [...prefix];
    const owner: Owner[] = prefix.map(() => OURS);
    let keysToCheck = false;
    for (let i = from; i < group.length; i++) {
      const m = group[i]!;
      statements.push(savepoint(i));
      owner.push(OURS);
      const own = m.insertKey ? m.append.insertingKey! : m.append.statements;
      own.forEach((s, index) => {
        statements.push(s);
        owner.push({ member: i, index });
      });
      if (m.append.insertingKey && !m.insertKey) keysToCheck = true;
    }
    if (!keysToCheck) {
      statements.push(COMMIT);
      owner.push(OURS);
    }
    const { results, error } = await batch(connection, statements);
    results.forEach((r, s) => {
      const { member, index } = owner[s]!;
      const m = group[member];
      if (!m) return;
      if (index === 0) m.result = m.append.resultOf(first(r));
      if (index === 1 && m.append.insertingKey && !m.insertKey)
        m.keyMissed = (r as ResultHeader).affectedRows !== 1;
    });
    const failed = error === undefined ? undefined : owner[results.length]!;
    if (
      error !== undefined &&
      (failed === OURS || isDeadlock(error) || isConnectionFailure(error))
    ) {
      // InnoDB rolled everything back (deadlock), the connection is gone, or one of our own
      // statements failed (a savepoint gone with the transaction, the COMMIT): all of the
      // group ends here, together.
      await rollback(connection);
      const gone =
        isDeadlock(error) || (!isConnectionFailure(error) && statements[results.length] !== COMMIT);
      // A COMMIT that failed has an unknown outcome: its error goes out as it is, as a lone
      // append's would.
      for (const m of group) m.error = gone ? new GroupRolledBack(error) : error;
      return;
    }
    if (failed) {
      const m = group[failed.member]!;
      m.error =
        m.insertKey && failed.index === 1 && isDuplicateKey(error)
          ? new IdempotencyKeyTaken(m.append.key!)
          : error;
    }
    // A key UPDATE that matched nothing (no live claim of ours): that append runs again,
    // inserting its completed row instead, and so do the appends after it.
    const missed = group.findIndex((m) => m.keyMissed);
    if (missed >= 0) {
      for (const m of group.slice(missed)) {
        m.keyMissed = false;
        m.error = undefined;
      }
      group[missed]!.insertKey = true;
      prefix = [rollbackTo(missed)];
      from = missed;
      continue;
    }
    if (failed) {
      // It alone is undone; the appends after it go in the next round trip (or just COMMIT).
      prefix = [rollbackTo(failed.member)];
      from = failed.member + 1;
      continue;
    }
    if (!keysToCheck) return; // committed
    prefix = [];
    from = group.length;
  }
}

interface Owner {
  readonly member: number;
  readonly index: number;
}

/** A statement of the transaction itself (BEGIN, SAVEPOINT, ROLLBACK TO, COMMIT). */
const OURS: Owner = { member: -1, index: -1 };

function first(header: unknown): bigint {
  return BigInt(String((header as ResultHeader).insertId));
}
