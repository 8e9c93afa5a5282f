import {
  IdempotencyConflictError,
  ValidationError,
  type AppendResult,
  type Clock,
  type IdGenerator,
  type IdempotencyClaim,
  type IdempotencyRecord,
} from '@cqrs/core';
import type { Knex } from 'knex';
import { isDuplicateKey } from './db-errors';
import { parseJsonColumn, toIsoMicros, toSqlDatetime } from './rows';

/**
 * Idempotency keys (docs/event-store.md "Idempotency"). A request with a key first *claims*
 * it: a committed `pending` row with a lease. Other requests with the same key then see it
 * in flight (409) - in this process or any other - instead of deciding and appending a second
 * time. The claim is *completed* inside the append transaction (events + outbox + result
 * commit together), or *released* when the command fails. The lease is short and its holder
 * renews it while it works (ClaimRenewals), so a crashed claimer blocks the key only until
 * its lease runs out - seconds; whoever takes over gets a fresh token, and completion only
 * matches a row that is still pending, so at most one append ever lands under a key.
 */
export interface IdempotencyDeps {
  readonly ids: IdGenerator;
  readonly clock: Clock;
  /** How long a completed key replays its result (then it is purged). */
  readonly ttlMs: number;
  /**
   * How long a claim stays pending without being renewed before another request may take the
   * key over. Its holder renews it every third of this while it works.
   */
  readonly leaseMs: number;
}

const KEY_PATTERN = /^[\x20-\x7e]{1,128}$/;

interface KeyRow {
  readonly fingerprint: string;
  readonly status: 'pending' | 'completed';
  readonly claim_token: string;
  readonly result: unknown;
  readonly lease_expires_at: Date | null;
  readonly expires_at: Date;
}

export function assertIdempotencyKey(key: string): void {
  if (!KEY_PATTERN.test(key))
    throw new ValidationError('Idempotency-Key must be 1-128 printable ASCII characters', [
      { path: 'headers/idempotency-key', message: 'must be 1-128 printable ASCII characters' },
    ]);
}

const sqlTime = (d: Date) => toSqlDatetime(toIsoMicros(d));
const plus = (d: Date, ms: number) => new Date(d.getTime() + ms);

async function selectKey(knex: Knex, key: string): Promise<KeyRow | undefined> {
  const [rows] = (await knex.raw(
    `SELECT fingerprint, status, claim_token, result, lease_expires_at, expires_at
     FROM idempotency_keys WHERE idempotency_key = ?`,
    [key],
  )) as [KeyRow[]];
  return rows[0];
}

function isReusable(row: KeyRow, now: Date): boolean {
  if (row.expires_at.getTime() <= now.getTime()) return true;
  return (
    row.status === 'pending' &&
    row.lease_expires_at !== null &&
    row.lease_expires_at.getTime() <= now.getTime()
  );
}

/**
 * Claims `key` for a request with `fingerprint`. Resolves `claimed` (go ahead, then append
 * with `idempotency: { key, fingerprint }` or release) or `replay` (the key completed with the
 * same request: answer with its result). Throws IdempotencyConflictError `in-flight` while
 * another request holds the key, `mismatch` when the key was used for another request.
 */
export async function claimIdempotencyKey(
  knex: Knex,
  key: string,
  fingerprint: string,
  deps: IdempotencyDeps,
): Promise<IdempotencyClaim> {
  assertIdempotencyKey(key);
  // Each lap either wins, or observes a row another request just wrote; a few laps suffice.
  for (let lap = 0; lap < 5; lap++) {
    const now = deps.clock.now();
    const token = deps.ids();
    const values = [
      fingerprint,
      token,
      sqlTime(now),
      sqlTime(plus(now, deps.leaseMs)),
      sqlTime(plus(now, deps.ttlMs)),
    ];
    try {
      await knex.raw(
        `INSERT INTO idempotency_keys
           (idempotency_key, fingerprint, status, claim_token, result, created_at, lease_expires_at, expires_at)
         VALUES (?, ?, 'pending', ?, NULL, ?, ?, ?)`,
        [key, ...values],
      );
      return { kind: 'claimed', key, fingerprint, token };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const row = await selectKey(knex, key);
    if (!row) continue; // purged meanwhile
    if (isReusable(row, now)) {
      const [header] = (await knex.raw(
        `UPDATE idempotency_keys
         SET fingerprint = ?, status = 'pending', claim_token = ?, result = NULL,
             created_at = ?, lease_expires_at = ?, expires_at = ?
         WHERE idempotency_key = ? AND claim_token = ?`,
        [...values, key, row.claim_token],
      )) as [{ affectedRows: number }];
      if (header.affectedRows === 1) return { kind: 'claimed', key, fingerprint, token };
      continue;
    }
    if (row.fingerprint !== fingerprint) throw new IdempotencyConflictError('mismatch', key);
    if (row.status === 'completed')
      return { kind: 'replay', record: { key, fingerprint, result: resultOf(row) } };
    throw new IdempotencyConflictError('in-flight', key);
  }
  throw new IdempotencyConflictError('in-flight', key);
}

/**
 * Pushes the lease of our still-pending claim one `leaseMs` forward (see ClaimRenewals).
 * Resolves false when the claim is no longer ours to renew: completed, released or taken over.
 */
export async function renewIdempotencyClaim(
  knex: Knex,
  claim: Extract<IdempotencyClaim, { kind: 'claimed' }>,
  deps: IdempotencyDeps,
): Promise<boolean> {
  const [header] = (await knex.raw(
    `UPDATE idempotency_keys SET lease_expires_at = ?
     WHERE idempotency_key = ? AND claim_token = ? AND status = 'pending'`,
    [sqlTime(plus(deps.clock.now(), deps.leaseMs)), claim.key, claim.token],
  )) as [{ affectedRows: number }];
  return header.affectedRows === 1;
}

/** Gives a claimed key back after the command failed, so a retry may use it at once. */
export async function releaseIdempotencyKey(
  knex: Knex,
  claim: Extract<IdempotencyClaim, { kind: 'claimed' }>,
): Promise<void> {
  await knex.raw(
    `DELETE FROM idempotency_keys
     WHERE idempotency_key = ? AND claim_token = ? AND status = 'pending'`,
    [claim.key, claim.token],
  );
}

/** Raised inside the append transaction when the key belongs to someone else; resolved after rollback. */
export class IdempotencyKeyTaken extends Error {
  constructor(readonly key: string) {
    super(`Idempotency key ${key} is taken`);
  }
}

/** A SQL expression and its placeholder values. */
export interface SqlExpression {
  readonly sql: string;
  readonly values: readonly unknown[];
}

/**
 * Inside the append transaction: marks the key completed with the result. Matches our
 * pending claim (or an expired row); when it matched nothing (affectedRows 0) the append
 * follows with `completedKeyInsert`. `result` is an SQL expression because the append
 * sends this before it knows its positions (see PositionTemplate).
 */
export function completeKeyUpdate(
  idempotency: { readonly key: string; readonly fingerprint: string },
  result: SqlExpression,
  deps: IdempotencyDeps,
  now: Date,
  token: string,
): { sql: string; values: unknown[] } {
  return {
    sql: `UPDATE idempotency_keys
     SET fingerprint = ?, status = 'completed', result = ${result.sql}, claim_token = ?,
         created_at = ?, lease_expires_at = NULL, expires_at = ?
     WHERE idempotency_key = ?
       AND ((status = 'pending' AND fingerprint = ?) OR expires_at <= ?)`,
    values: [
      idempotency.fingerprint,
      ...result.values,
      token,
      sqlTime(now),
      sqlTime(plus(now, deps.ttlMs)),
      idempotency.key,
      idempotency.fingerprint,
      sqlTime(now),
    ],
  };
}

/**
 * Without a claim to complete, the append inserts the completed row directly (in the place
 * of the UPDATE, so `result` is again an SQL expression). A duplicate key means another
 * request owns the key: the append fails with IdempotencyKeyTaken (see resolveTakenKey).
 */
export function completedKeyInsert(
  idempotency: { readonly key: string; readonly fingerprint: string },
  result: SqlExpression,
  deps: IdempotencyDeps,
  now: Date,
  token: string,
): { sql: string; values: unknown[] } {
  return {
    sql: `INSERT INTO idempotency_keys
         (idempotency_key, fingerprint, status, claim_token, result, created_at, lease_expires_at, expires_at)
       VALUES (?, ?, 'completed', ?, ${result.sql}, ?, NULL, ?)`,
    values: [
      idempotency.key,
      idempotency.fingerprint,
      token,
      ...result.values,
      sqlTime(now),
      sqlTime(plus(now, deps.ttlMs)),
    ],
  };
}

/**
 * After an append lost the key to another request: the original result when that request
 * completed with the same fingerprint, else the matching IdempotencyConflictError.
 */
export async function resolveTakenKey(
  knex: Knex,
  idempotency: { readonly key: string; readonly fingerprint: string },
): Promise<AppendResult> {
  const row = await selectKey(knex, idempotency.key);
  if (row && row.fingerprint !== idempotency.fingerprint)
    throw new IdempotencyConflictError('mismatch', idempotency.key);
  if (row?.status === 'completed') return resultOf(row);
  throw new IdempotencyConflictError('in-flight', idempotency.key);
}

/** Whether the key is completed, or held by a request with another fingerprint. */
export async function isKeyTaken(
  knex: Knex,
  idempotency: { readonly key: string; readonly fingerprint: string },
  now: Date,
): Promise<boolean> {
  const row = await selectKey(knex, idempotency.key);
  if (!row || row.expires_at.getTime() <= now.getTime()) return false;
  return row.status === 'completed' || row.fingerprint !== idempotency.fingerprint;
}

/** The completed, unexpired record of `key`, if any. */
export async function findIdempotencyRecord(
  knex: Knex,
  key: string,
  now: Date,
): Promise<IdempotencyRecord | undefined> {
  if (!KEY_PATTERN.test(key)) return undefined;
  const row = await selectKey(knex, key);
  if (!row || row.status !== 'completed' || row.expires_at.getTime() <= now.getTime())
    return undefined;
  return { key, fingerprint: row.fingerprint, result: resultOf(row) };
}

/** Deletes expired keys in batches (short transactions, no long locks); returns how many. */
export async function purgeExpiredIdempotencyKeys(
  knex: Knex,
  now: Date,
  batchSize = 1000,
): Promise<number> {
  let total = 0;
  for (;;) {
    const [header] = (await knex.raw(
      'DELETE FROM idempotency_keys WHERE expires_at <= ? ORDER BY expires_at LIMIT ?',
      [sqlTime(now), batchSize],
    )) as [{ affectedRows: number }];
    total += header.affectedRows;
    if (header.affectedRows < batchSize) return total;
  }
}

function resultOf(row: KeyRow): AppendResult {
  return parseJsonColumn<AppendResult>(row.result);
}
