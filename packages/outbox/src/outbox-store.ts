import type { Knex } from 'knex';
import type { OutboxRow } from './outbox-message';

/**
 * The relay's SQL on the `outbox` table (MySQL 8 and MariaDB alike).
 *
 * The relay scans `published_at IS NULL` in id order on every pass, never "id > the last one
 * published": an auto-increment id is taken at insert, not at commit, so a transaction that
 * commits late leaves a lower id behind rows already published. A high-water mark would skip
 * it for ever; the scan picks it up on the next pass. Index: (published_at, id).
 */
export async function fetchUnpublished(knex: Knex, limit: number): Promise<OutboxRow[]> {
  const [rows] = (await knex.raw(
    `SELECT id, event_id, event_type, routing_key, payload, headers,
            DATE_FORMAT(occurred_at, '%Y-%m-%d %H:%i:%s.%f') AS occurred_at,
            TIMESTAMPDIFF(MICROSECOND, created_at, NOW(6)) AS age_us
       FROM outbox
      WHERE published_at IS NULL
      ORDER BY id
      LIMIT ?`,
    [limit],
  )) as [OutboxRow[]];
  return rows.map((r) => ({ ...r, id: String(r.id) }));
}

const CHUNK = 1000;

/** Marks confirmed rows published, in batched UPDATEs. */
export async function markPublished(knex: Knex, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    await knex.raw(
      `UPDATE outbox SET published_at = NOW(6), attempts = attempts + 1
        WHERE id IN (${chunk.map(() => '?').join(',')})`,
      chunk,
    );
  }
}

/** Counts a failed publish attempt (the rows stay unpublished and are retried). */
export async function recordFailedAttempts(knex: Knex, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    await knex.raw(
      `UPDATE outbox SET attempts = attempts + 1 WHERE id IN (${chunk.map(() => '?').join(',')})`,
      chunk,
    );
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
}

export async function outboxStats(knex: Knex): Promise<OutboxStats> {
  const [rows] = (await knex.raw(
    `SELECT COUNT(*) AS backlog,
            COALESCE(TIMESTAMPDIFF(MICROSECOND, MIN(created_at), NOW(6)), 0) AS oldest_age_us
       FROM outbox WHERE published_at IS NULL`,
  )) as [{ backlog: string | number; oldest_age_us: string | number }[]];
  const row = rows[0];
  return {
    backlog: Number(row?.backlog ?? 0),
    oldestAgeSeconds: Math.max(0, Number(row?.oldest_age_us ?? 0) / 1e6),
  };
}
