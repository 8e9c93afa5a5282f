import { ValidationError } from '@cqrs/core';
import type { Knex } from 'knex';
import type { OutboxRow } from './outbox-message';

const ROW_COLUMNS = `id, event_id, event_type, routing_key, payload, headers,
            DATE_FORMAT(occurred_at, '%Y-%m-%d %H:%i:%s.%f') AS occurred_at,
            TIMESTAMPDIFF(MICROSECOND, created_at, NOW(6)) AS age_us`;

/**
 * The relay's SQL on the `outbox` table (MySQL 8 and MariaDB alike).
 *
 * The relay always reads from the first unpublished row, never from "the last one
 * published" or from where its previous page ended: an auto-increment id is taken at insert,
 * not at commit, so a transaction that commits late leaves a lower id behind rows already
 * read. A high-water mark would skip it for ever, and a page cursor could see the later half
 * of such a transaction before its earlier half. Index: (published_at, id).
 */
export async function fetchUnpublished(knex: Knex, limit: number): Promise<OutboxRow[]> {
  const [rows] = (await knex.raw(
    `SELECT ${ROW_COLUMNS}
       FROM outbox
      WHERE published_at IS NULL
      ORDER BY id
      LIMIT ?`,
    [limit],
  )) as [OutboxRow[]];
  return withStringIds(rows);
}

/**
 * The ids of the oldest `limit` unpublished rows, in id order: a range read on the index
 * alone, cheap enough to poll every few milliseconds. One statement, one snapshot, so the
 * list is complete up to its last id: every row committed at that moment with a lower id
 * is in it.
 */
export async function fetchUnpublishedIds(knex: Knex, limit: number): Promise<string[]> {
  const [rows] = (await knex.raw(
    'SELECT id FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT ?',
    [limit],
  )) as [{ id: string | number }[]];
  return rows.map((r) => (typeof r.id === 'string' ? r.id : String(r.id)));
}

/** The rows with these ids (primary-key reads), in id order, as the relay publishes them. */
export async function fetchOutboxRows(knex: Knex, ids: readonly string[]): Promise<OutboxRow[]> {
  if (ids.length === 0) return [];
  const [rows] = (await knex.raw(
    `SELECT ${ROW_COLUMNS} FROM outbox WHERE id IN (${idList(ids)}) ORDER BY id`,
  )) as [OutboxRow[]];
  return withStringIds(rows);
}

// createKnex's pool returns BIGINTs as strings already; another pool may not.
function withStringIds(rows: OutboxRow[]): OutboxRow[] {
  if (rows.length === 0 || typeof rows[0]?.id === 'string') return rows;
  return rows.map((r) => ({ ...r, id: String(r.id) }));
}

const CHUNK = 1000;
const ID = /^[0-9]{1,20}$/;

/**
 * `1,2,3` for an IN list. Ids are BIGINTs as decimal strings: written into the SQL as they
 * are (after this check), which spares binding and escaping hundreds of values per page and
 * per mark - a visible share of the relay's CPU.
 */
function idList(ids: readonly string[]): string {
  for (const id of ids) {
    if (!ID.test(id)) throw new ValidationError(`not an outbox id: ${JSON.stringify(id)}`);
  }
  return ids.join(',');
}

/** Marks confirmed rows published, in batched UPDATEs. */
export async function markPublished(knex: Knex, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    await knex.raw(
      `UPDATE outbox SET published_at = NOW(6), attempts = attempts + 1
        WHERE id IN (${idList(chunk)})`,
    );
  }
}

/** Counts a failed publish attempt (the rows stay unpublished and are retried). */
export async function recordFailedAttempts(knex: Knex, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    await knex.raw(`UPDATE outbox SET attempts = attempts + 1 WHERE id IN (${idList(chunk)})`);
  }
}

/**
 * Deletes at most `limit` rows published more than `retentionSeconds` ago, oldest first.
 * Small batches keep each DELETE's locks and undo short. Returns how many were deleted.
 */
export async function purgePublished(
  knex: Knex,
  retentionSeconds: number,
  limit: number,
): Promise<number> {
  const [result] = (await knex.raw(
    `DELETE FROM outbox
      WHERE published_at < NOW(6) - INTERVAL ? SECOND
      ORDER BY published_at, id
      LIMIT ?`,
    [retentionSeconds, limit],
  )) as [{ affectedRows: number }];
  return result.affectedRows;
}

export interface OutboxStats {
  /** Rows not yet confirmed by the broker. */
  readonly backlog: number;
  /** Age of the oldest of them, in seconds (0 when there is none). */
  readonly oldestAgeSeconds: number;
  /**
   * Failed publish attempts of the oldest unpublished row (0 when none). The relay never skips
   * a row, so a head row whose attempts keep growing is a poisoned one holding every row
   * behind it: park it (parking.ts).
   */
  readonly headAttempts: number;
  /** Rows parked by an operator (`outbox_parked`), waiting to be re-queued. */
  readonly parked: number;
}

export async function outboxStats(knex: Knex): Promise<OutboxStats> {
  const [rows] = (await knex.raw(
    `SELECT COUNT(*) AS backlog,
            COALESCE(TIMESTAMPDIFF(MICROSECOND, MIN(created_at), NOW(6)), 0) AS oldest_age_us,
            COALESCE((SELECT attempts FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT 1), 0)
              AS head_attempts,
            (SELECT COUNT(*) FROM outbox_parked) AS parked
       FROM outbox WHERE published_at IS NULL`,
  )) as [
    {
      backlog: string | number;
      oldest_age_us: string | number;
      head_attempts: string | number;
      parked: string | number;
    }[],
  ];
  const row = rows[0];
  return {
    backlog: Number(row?.backlog ?? 0),
    oldestAgeSeconds: Math.max(0, Number(row?.oldest_age_us ?? 0) / 1e6),
    headAttempts: Number(row?.head_attempts ?? 0),
    parked: Number(row?.parked ?? 0),
  };
}
