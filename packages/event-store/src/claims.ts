import type { AppendRequest, ClaimKey } from '@cqrs/core';
import type { Knex } from 'knex';
import { query, rollback, select, withConnection, type Statement } from './connection';
import { isDuplicateKey } from './db-errors';

/**
 * Unique keys held by streams (docs/room-calendar.md). The append gives back the released keys
 * and inserts the acquired ones in its own transaction: the primary key (scope, claim_key) is
 * the check, so two appends that want one key conflict in the database, whatever process
 * decided them. Keys arrive sorted (the runtime sorts them): overlapping inserts then lock in
 * one order and queue instead of deadlocking.
 */
export function claimStatements(request: AppendRequest, at: string): Statement[] {
  const claims = request.claims;
  if (!claims) return [];
  const { streamType, streamId } = request;
  const statements: Statement[] = [];
  if (claims.release.length > 0) {
    statements.push({
      sql: `DELETE FROM claims WHERE owner_stream_type = ? AND owner_stream_id = ?
  AND (scope, claim_key) IN (${claims.release.map(() => '(?, ?)').join(', ')})`,
      values: [streamType, streamId, ...claims.release.flatMap((k) => [k.scope, k.key])],
    });
  }
  if (claims.acquire.length > 0) {
    statements.push({
      sql: `INSERT INTO claims (scope, claim_key, owner_stream_type, owner_stream_id, claimed_at)
  VALUES ${claims.acquire.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
      values: claims.acquire.flatMap((k) => [k.scope, k.key, streamType, streamId, at]),
    });
  }
  return statements;
}

/**
 * Whether a failed append met a held key: a duplicate on the claims primary key (the only
 * other unique keys an append writes are the events' own, reported as concurrency conflicts).
 */
export function isClaimTaken(err: unknown, request: AppendRequest): boolean {
  return (
    (request.claims?.acquire.length ?? 0) > 0 &&
    isDuplicateKey(err) &&
    !isDuplicateKey(err, 'uq_events_')
  );
}

/** The acquired keys another stream holds now (read only after a failed append). */
export async function takenClaims(knex: Knex, request: AppendRequest): Promise<ClaimKey[]> {
  const keys = request.claims?.acquire ?? [];
  if (keys.length === 0) return [];
  const rows = await select<{ scope: string; claim_key: string }>(
    knex,
    `SELECT scope, claim_key FROM claims
  WHERE (scope, claim_key) IN (${keys.map(() => '(?, ?)').join(', ')})
    AND NOT (owner_stream_type = ? AND owner_stream_id = ?)
  ORDER BY scope, claim_key`,
    [...keys.flatMap((k) => [k.scope, k.key]), request.streamType, request.streamId],
  );
  return rows.map((r) => ({ scope: r.scope, key: r.claim_key }));
}

/** A claim as the rebuild derives it from the log. */
export interface ClaimRow extends ClaimKey {
  readonly streamType: string;
  readonly streamId: string;
  /** When the event that took it was stored (`YYYY-MM-DD HH:MM:SS.ffffff`). */
  readonly claimedAt: string;
}

const REPLACE_BATCH = 500;

/**
 * Replaces every claim with `rows`, in one transaction. Run it with the writers stopped: an
 * append committed between the rebuild's read of the log and this write would be lost.
 */
export async function replaceClaims(knex: Knex, rows: readonly ClaimRow[]): Promise<void> {
  const statements: Statement[] = [{ sql: 'DELETE FROM claims', values: [] }];
  for (let i = 0; i < rows.length; i += REPLACE_BATCH) {
    const part = rows.slice(i, i + REPLACE_BATCH);
    statements.push({
      sql: `INSERT INTO claims (scope, claim_key, owner_stream_type, owner_stream_id, claimed_at)
  VALUES ${part.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
      values: part.flatMap((r) => [r.scope, r.key, r.streamType, r.streamId, r.claimedAt]),
    });
  }
  await inTransaction(knex, statements);
}

/** Runs the statements one by one in a transaction (rebuilds; not a hot path). */
export async function inTransaction(knex: Knex, statements: readonly Statement[]): Promise<void> {
  await withConnection(knex, async (connection) => {
    try {
      await query(connection, 'START TRANSACTION');
      for (const s of statements) await query(connection, s.sql, s.values);
      await query(connection, 'COMMIT');
    } catch (err) {
      await rollback(connection);
      throw err;
    }
  });
}
