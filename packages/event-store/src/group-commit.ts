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

/** Rows for one multi-row INSERT: `into` is its text up to `VALUES`, `rows` the row tuples. */
export interface InsertRows {
  readonly into: string;
  readonly rows: string;
  readonly values: readonly unknown[];
}

/**
 * One append, ready to run inside someone's transaction (docs/event-store.md "Group commit").
 * It writes nothing outside its own stream, keys and claims, and its statements return no
 * rows. Its events are rows of an events INSERT - its own, or the group's - whose insert id
 * is the first of consecutive positions (`@@auto_increment_increment` apart).
 */
export interface PreparedAppend {
  readonly events: InsertRows;
  /** How many rows `events` holds. */
  readonly count: number;
  /**
   * What it writes after its events, its first event being row `at` of the events INSERT
   * (its positions are `LAST_INSERT_ID() + (at + i) * step`).
   */
  writes(at: number): AppendWrites;
  readonly key?: string;
  /** Roughly what its values weigh on the wire (the group's packet budget). */
  readonly bytes: number;
  /** Its result, its events being rows `at`.. of the events INSERT that got `insertId`. */
  resultOf(insertId: bigint, at: number): AppendResult;
}

export interface AppendWrites {
  /**
   * With an Idempotency-Key: the UPDATE completing it and, for when that matched nothing, the
   * INSERT of the completed row. Right after the events INSERT: the outbox INSERT moves
   * LAST_INSERT_ID().
   */
  readonly key?: { readonly update: Statement; readonly insert: Statement };
  readonly outbox?: InsertRows;
  /** Claims and deadlines. */
  readonly rest: readonly Statement[];
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
const ROLLBACK: Statement = { sql: 'ROLLBACK', values: [] };
const savepoint = (i: number): Statement => ({ sql: `SAVEPOINT a${i}`, values: [] });
const rollbackTo = (i: number): Statement => ({ sql: `ROLLBACK TO SAVEPOINT a${i}`, values: [] });

/**
 * Group commit: while `maxGroups` transactions are in flight, appends queue; when one ends,
 * every queued append (up to the limits) goes in the next transaction, with one COMMIT - one
 * log flush for all. An append that finds a free slot goes at the end of the current turn of
 * the event loop (`process.nextTick`), together with every append that arrived in the same
 * turn: nothing waits on a timer or on I/O, so a lone append costs what it did, while the
 * callers a finished group wakes up (who come back in that same turn) stay one group instead
 * of the first of them taking the free slot alone.
 *
 * The group first goes merged, as if it were one append: one events INSERT and one outbox
 * INSERT for all - a few statements for the server to run instead of three per append. Only
 * when a statement of that fails (a duplicate version, a taken claim or key, a lock wait
 * timeout, a key UPDATE matching nothing) does the group run again, in the same transaction
 * after a ROLLBACK, each append behind its own savepoint: a failing statement then stops the
 * batch at that append, the next round trip rolls back to its savepoint and runs the appends
 * after it, and it alone fails with its own error. A rollback of the whole transaction
 * (deadlock) fails every append of the group with GroupRolledBack, which the append retries;
 * a lost connection fails every one of them as unavailable, as it does a lone append. Nobody
 * hears of success before the COMMIT is acknowledged, nor of a failure before the
 * transaction is over (so what the caller then reads to explain it is settled).
 */
export class GroupCommitter {
  private readonly queue: Member[] = [];
  private inFlight = 0;
  /** A pump is due at the end of this turn. */
  private pumpDue = false;

  constructor(
    private readonly knex: Knex,
    private readonly limits: GroupCommitLimits = DEFAULT_GROUP_COMMIT,
  ) {}

  commit(append: PreparedAppend): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ append, resolve, reject, insertKey: false });
      this.pumpSoon();
    });
  }

  private pumpSoon(): void {
    if (this.pumpDue) return;
    this.pumpDue = true;
    process.nextTick(() => {
      this.pumpDue = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.limits.maxGroups && this.queue.length > 0) {
      const group = this.take();
      this.inFlight++;
      void this.run(group).finally(() => {
        this.inFlight--;
        this.pumpSoon();
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
 * Runs the group in one transaction and leaves each member's result or error on it: first
 * merged (see `merged`); when that fails for one of them, savepoint by savepoint.
 */
async function transaction(connection: PooledConnection, group: Member[]): Promise<void> {
  const attempt = await merged(connection, group);
  if (attempt === 'settled') return;
  await savepointBySavepoint(
    connection,
    group,
    attempt.inTransaction ? [ROLLBACK, BEGIN] : [BEGIN],
  );
}

/**
 * The whole group as if it were one append: one events INSERT with every member's rows, the
 * key UPDATEs, one outbox INSERT, then each member's claims and deadlines, in member order -
 * one round trip (a second for the COMMIT with keys, once their UPDATEs' affected rows are
 * known). A lone statement (events only) goes without a transaction around it.
 *
 * When a statement fails, nobody can tell whose rows failed it: the attempt is rolled back
 * (the ROLLBACK goes with the fallback's first round trip) and the group runs savepoint by
 * savepoint, which gives each member its own outcome - unless the failure ends the group
 * anyway (deadlock, lost connection, the COMMIT), or the group is one append, whose failure
 * is its own.
 */
async function merged(
  connection: PooledConnection,
  group: Member[],
): Promise<'settled' | { readonly inTransaction: boolean }> {
  const at: number[] = [];
  let rows = 0;
  for (const m of group) {
    at.push(rows);
    rows += m.append.count;
  }
  const keys: Statement[] = [];
  const outbox: InsertRows[] = [];
  const rest: Statement[] = [];
  group.forEach((m, i) => {
    const w = m.append.writes(at[i]!);
    if (w.key) keys.push(w.key.update);
    if (w.outbox) outbox.push(w.outbox);
    rest.push(...w.rest);
  });
  const body = [
    insert(group.map((m) => m.append.events)),
    ...keys,
    ...(outbox.length > 0 ? [insert(outbox)] : []),
    ...rest,
  ];
  const inTransaction = body.length > 1;
  const statements = inTransaction ? [BEGIN, ...body, ...(keys.length > 0 ? [] : [COMMIT])] : body;
  const { results, error: failure } = await batch(connection, statements);
  let error = failure;
  let failed = error === undefined ? undefined : statements[results.length];
  if (error === undefined && keys.length > 0) {
    // A key UPDATE that matched nothing (no live claim of ours): the savepoint path inserts
    // that key's completed row instead.
    const matched = results.slice(2, 2 + keys.length);
    if (matched.some((r) => (r as ResultHeader).affectedRows !== 1)) return { inTransaction };
    ({ error } = await batch(connection, [COMMIT]));
    failed = COMMIT;
  }
  if (error === undefined) {
    const insertId = first(results[inTransaction ? 1 : 0]);
    group.forEach((m, i) => (m.result = m.append.resultOf(insertId, at[i]!)));
    return 'settled';
  }
  const ends = isDeadlock(error) || isConnectionFailure(error) || failed === COMMIT;
  if (!ends && group.length > 1) return { inTransaction };
  if (inTransaction) await rollback(connection);
  // As for a lone append: a deadlock is retried; anything else is the outcome (a COMMIT that
  // failed has an unknown one, and its error goes out as it is).
  for (const m of group) m.error = isDeadlock(error) ? new GroupRolledBack(error) : error;
  return 'settled';
}

/**
 * Each member behind its own savepoint, `prefix` opening the transaction. Round trips: one
 * when nothing fails; one more per failing append; with keys, one more for the COMMIT once
 * the key UPDATEs' affected rows are known.
 */
async function savepointBySavepoint(
  connection: PooledConnection,
  group: Member[],
  opening: readonly Statement[],
): Promise<void> {
  const own = group.map((m) => ownStatements(m.append));
  let from = 0; // the first member to run in the next round trip
  let prefix = opening;
  for (;;) {
    const statements = [...prefix];
    const owner: Owner[] = prefix.map(() => OURS);
    let keysToCheck = false;
    for (let i = from; i < group.length; i++) {
      const m = group[i]!;
      statements.push(savepoint(i));
      owner.push(OURS);
      own[i]!(m.insertKey).forEach((s, index) => {
        statements.push(s);
        owner.push({ member: i, index });
      });
      if (m.append.key !== undefined && !m.insertKey) keysToCheck = true;
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
      if (index === 0) m.result = m.append.resultOf(first(r), 0);
      if (index === 1 && m.append.key !== undefined && !m.insertKey)
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

/**
 * An append's statements on its own: its events INSERT (index 0), its key's UPDATE or, with
 * `insertKey`, INSERT (index 1), its outbox INSERT, claims and deadlines.
 */
function ownStatements(append: PreparedAppend): (insertKey: boolean) => Statement[] {
  const { key, outbox, rest } = append.writes(0);
  const events = insert([append.events]);
  const after = [...(outbox ? [insert([outbox])] : []), ...rest];
  return (insertKey) => [events, ...(key ? [insertKey ? key.insert : key.update] : []), ...after];
}

/** One INSERT of all these rows, in order (they share `into`). */
function insert(rows: readonly InsertRows[]): Statement {
  if (rows.length === 1) return { sql: rows[0]!.into + rows[0]!.rows, values: rows[0]!.values };
  return {
    sql: rows[0]!.into + rows.map((r) => r.rows).join(', '),
    values: rows.flatMap((r) => r.values),
  };
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
