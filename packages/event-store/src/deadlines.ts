import type { AppendRequest, DeadlineStats, DueDeadline, IdGenerator } from '@cqrs/core';
import type { Knex } from 'knex';
import { query, rollback, select, withConnection, type Statement } from './connection';
import { inTransaction } from './claims';
import { toIsoMicros, toSqlDatetime } from './rows';

/**
 * Durable deadlines (docs/room-calendar.md "Deadlines"). The append writes them with the
 * events that start and stop them; workers lease due rows here.
 */

/**
 * The append's part: the rows of the states left (and of those entered, so an entered state
 * always starts a fresh deadline) are deleted, then those entered are inserted.
 */
export function deadlineStatements(request: AppendRequest): Statement[] {
  const deadlines = request.deadlines;
  if (!deadlines) return [];
  const { streamType, streamId } = request;
  const names = [...new Set([...deadlines.cancel, ...deadlines.schedule.map((d) => d.name)])];
  const statements: Statement[] = [];
  if (names.length > 0) {
    statements.push({
      sql: `DELETE FROM deadlines WHERE stream_type = ? AND stream_id = ?
  AND name IN (${names.map(() => '?').join(', ')})`,
      values: [streamType, streamId, ...names],
    });
  }
  if (deadlines.schedule.length > 0) {
    statements.push({
      sql: `INSERT INTO deadlines (stream_type, stream_id, name, command, due_at, fire_at)
  VALUES ${deadlines.schedule.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
      values: deadlines.schedule.flatMap((d) => {
        const due = sqlTime(d.dueAt);
        return [streamType, streamId, d.name, d.command, due, due];
      }),
    });
  }
  return statements;
}

interface DeadlineRow {
  readonly stream_type: string;
  readonly stream_id: string;
  readonly name: string;
  readonly command: string;
  readonly due_at: string;
}

/**
 * Leases up to `limit` due deadlines: `FOR UPDATE SKIP LOCKED` so concurrent workers take
 * different rows, then `fire_at` moves to the end of the lease and the transaction commits -
 * no row lock is held while the command runs (its append deletes the very row). A worker that
 * dies leaves the row to be claimed again when `fire_at` passes.
 */
export async function claimDueDeadlines(
  knex: Knex,
  now: Date,
  limit: number,
  leaseMs: number,
  ids: IdGenerator,
): Promise<DueDeadline[]> {
  return withConnection(knex, async (connection) => {
    try {
      await query(connection, 'START TRANSACTION');
      const rows = await query<DeadlineRow[]>(
        connection,
        `SELECT stream_type, stream_id, name, command,
    DATE_FORMAT(due_at, '%Y-%m-%d %H:%i:%s.%f') AS due_at
  FROM deadlines WHERE fire_at <= ? ORDER BY fire_at LIMIT ? FOR UPDATE SKIP LOCKED`,
        [sqlTime(now), limit],
      );
      if (rows.length === 0) {
        await query(connection, 'COMMIT');
        return [];
      }
      const token = ids();
      await query(
        connection,
        `UPDATE deadlines SET fire_at = ?, lease_token = ?, attempts = attempts + 1
  WHERE (stream_type, stream_id, name) IN (${rows.map(() => '(?, ?, ?)').join(', ')})`,
        [
          sqlTime(new Date(now.getTime() + leaseMs)),
          token,
          ...rows.flatMap((r) => [r.stream_type, r.stream_id, r.name]),
        ],
      );
      await query(connection, 'COMMIT');
      return rows.map((r) => ({
        streamType: r.stream_type,
        streamId: r.stream_id,
        name: r.name,
        command: r.command,
        dueAt: new Date(toIsoMicros(r.due_at)),
        leaseToken: token,
      }));
    } catch (err) {
      await rollback(connection);
      throw err;
    }
  });
}

/** Deletes a leased row, unless it was rescheduled since (a new row has no lease token). */
export async function completeDeadline(knex: Knex, deadline: DueDeadline): Promise<void> {
  await withConnection(knex, (connection) =>
    query(
      connection,
      'DELETE FROM deadlines WHERE stream_type = ? AND stream_id = ? AND name = ? AND lease_token = ?',
      [deadline.streamType, deadline.streamId, deadline.name, deadline.leaseToken],
    ),
  );
}

export async function deadlineStats(knex: Knex, now: Date): Promise<DeadlineStats> {
  const [row] = await select<{ due: number | string; oldest: string | null }>(
    knex,
    `SELECT COUNT(*) AS due, DATE_FORMAT(MIN(due_at), '%Y-%m-%d %H:%i:%s.%f') AS oldest
  FROM deadlines WHERE due_at <= ?`,
    [sqlTime(now)],
  );
  const due = Number(row?.due ?? 0);
  return row?.oldest ? { due, oldestDueAt: new Date(toIsoMicros(row.oldest)) } : { due };
}

/** A deadline as the rebuild derives it from the log. */
export interface DeadlineRowInput {
  readonly streamType: string;
  readonly streamId: string;
  readonly name: string;
  readonly command: string;
  readonly dueAt: Date;
}

/** Replaces every deadline with `rows`, in one transaction (writers stopped, see replaceClaims). */
export async function replaceDeadlines(
  knex: Knex,
  rows: readonly DeadlineRowInput[],
): Promise<void> {
  const statements: Statement[] = [{ sql: 'DELETE FROM deadlines', values: [] }];
  for (let i = 0; i < rows.length; i += 500) {
    const part = rows.slice(i, i + 500);
    statements.push({
      sql: `INSERT INTO deadlines (stream_type, stream_id, name, command, due_at, fire_at)
  VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
      values: part.flatMap((r) => {
        const due = sqlTime(r.dueAt);
        return [r.streamType, r.streamId, r.name, r.command, due, due];
      }),
    });
  }
  await inTransaction(knex, statements);
}

function sqlTime(date: Date): string {
  return toSqlDatetime(toIsoMicros(date));
}
