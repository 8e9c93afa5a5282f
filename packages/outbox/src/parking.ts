import { NotFoundError } from '@cqrs/core';
import type { Knex } from 'knex';

/**
 * The way out of the relay's order-over-availability choice. The relay publishes in id order
 * and stops at a row it cannot publish (malformed headers, a message the broker refuses)
 * rather than skip it - skipping would lose it or reorder its stream silently. An operator
 * who has seen it stuck (`outbox_head_attempts`, GET /admin/outbox) *parks* it: the row moves
 * to `outbox_parked` with a reason, in one transaction, and the rows behind it flow again.
 * Once repaired (or to retry as it is), *re-queueing* moves it back under its own id, so it is
 * the next row the relay publishes. Nothing is deleted on the way.
 *
 * A parked event reaches consumers later than the events its stream appended after it;
 * read models that order by stream version (the projector does) converge when it arrives.
 */

const COLUMNS = 'id, event_id, event_type, routing_key, payload, headers, occurred_at, created_at';

export interface ParkedRow {
  readonly id: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly routingKey: string;
  readonly attempts: number;
  readonly parkedAt: string;
  readonly reason: string;
}

export interface UnpublishedRow {
  readonly id: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly routingKey: string;
  /** Failed publish attempts so far: a head row that keeps counting up is stuck. */
  readonly attempts: number;
  readonly createdAt: string;
}

/** The oldest unpublished rows, head first: what the relay is working on (or stuck at). */
export async function unpublishedHead(knex: Knex, limit: number): Promise<UnpublishedRow[]> {
  const [rows] = (await knex.raw(
    `SELECT id, event_id, event_type, routing_key, attempts, created_at
       FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT ?`,
    [limit],
  )) as [Array<Record<string, unknown>>];
  return rows.map((r) => ({
    id: String(r.id),
    eventId: String(r.event_id),
    eventType: String(r.event_type),
    routingKey: String(r.routing_key),
    attempts: Number(r.attempts),
    createdAt: new Date(r.created_at as string).toISOString(),
  }));
}

/** Moves the unpublished row `id` to `outbox_parked`. NotFoundError when there is none. */
export async function parkOutboxRow(knex: Knex, id: string, reason: string): Promise<void> {
  await knex.transaction(async (trx) => {
    const [inserted] = (await trx.raw(
      `INSERT INTO outbox_parked (${COLUMNS}, attempts, parked_at, reason)
       SELECT ${COLUMNS}, attempts, NOW(6), ? FROM outbox
        WHERE id = ? AND published_at IS NULL FOR UPDATE`,
      [reason, id],
    )) as [{ affectedRows: number }];
    if (inserted.affectedRows !== 1)
      throw new NotFoundError(`No unpublished outbox row ${id}`, { id });
    await trx.raw('DELETE FROM outbox WHERE id = ?', [id]);
  });
}

/** Moves parked row `id` back into the outbox under its own id. NotFoundError when not parked. */
export async function requeueParkedRow(knex: Knex, id: string): Promise<void> {
  await knex.transaction(async (trx) => {
    const [inserted] = (await trx.raw(
      `INSERT INTO outbox (${COLUMNS}, published_at, attempts)
       SELECT ${COLUMNS}, NULL, 0 FROM outbox_parked WHERE id = ? FOR UPDATE`,
      [id],
    )) as [{ affectedRows: number }];
    if (inserted.affectedRows !== 1) throw new NotFoundError(`No parked outbox row ${id}`, { id });
    await trx.raw('DELETE FROM outbox_parked WHERE id = ?', [id]);
  });
}

export async function listParkedRows(knex: Knex, limit: number): Promise<ParkedRow[]> {
  const [rows] = (await knex.raw(
    `SELECT id, event_id, event_type, routing_key, attempts, parked_at, reason
       FROM outbox_parked ORDER BY id LIMIT ?`,
    [limit],
  )) as [Array<Record<string, unknown>>];
  return rows.map((r) => ({
    id: String(r.id),
    eventId: String(r.event_id),
    eventType: String(r.event_type),
    routingKey: String(r.routing_key),
    attempts: Number(r.attempts),
    parkedAt: new Date(r.parked_at as string).toISOString(),
    reason: String(r.reason),
  }));
}
