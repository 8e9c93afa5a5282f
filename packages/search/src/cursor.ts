import { ValidationError } from '@cqrs/core';
import { createHash } from 'node:crypto';

export type SortValue = string | number | boolean | null;

interface CursorBody {
  readonly v: 1;
  /** The sort the cursor was made for. */
  readonly s: string;
  /** Fingerprint of the query and filters: a cursor only continues the query it came from. */
  readonly f: string;
  /** `search_after` values of the last hit. */
  readonly a: readonly SortValue[];
}

/** A short fingerprint of the parameters that define a result list (not size or cursor). */
export function queryFingerprint(params: Readonly<Record<string, unknown>>): string {
  const canonical = JSON.stringify(
    Object.keys(params)
      .sort()
      .filter((k) => params[k] !== undefined)
      .map((k) => [k, params[k]]),
  );
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

export function encodeCursor(
  sort: string,
  fingerprint: string,
  after: readonly SortValue[],
): string {
  const body: CursorBody = { v: 1, s: sort, f: fingerprint, a: after };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

/**
 * The `search_after` values of a cursor made by `encodeCursor` for the same sort and query.
 * Anything else - garbage, a tampered value, a cursor of another query - is a 400.
 */
export function decodeCursor(cursor: string, sort: string, fingerprint: string): SortValue[] {
  const bad = (why: string) =>
    new ValidationError(`Malformed cursor: ${why}`, [{ path: 'querystring/cursor', message: why }]);
  if (!/^[A-Za-z0-9_-]{1,2048}$/.test(cursor)) throw bad('not a cursor returned by this API');
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad('not a cursor returned by this API');
  }
  const b = body as Partial<CursorBody> | null;
  if (
    !b ||
    typeof b !== 'object' ||
    b.v !== 1 ||
    typeof b.s !== 'string' ||
    typeof b.f !== 'string' ||
    !Array.isArray(b.a) ||
    b.a.length === 0 ||
    b.a.length > 4 ||
    !b.a.every(isSortValue)
  ) {
    throw bad('not a cursor returned by this API');
  }
  if (b.s !== sort || b.f !== fingerprint) {
    throw bad('the cursor belongs to another query or sort; repeat the same parameters');
  }
  return [...b.a];
}

function isSortValue(v: unknown): v is SortValue {
  return (
    v === null ||
    typeof v === 'boolean' ||
    (typeof v === 'string' && v.length <= 512) ||
    (typeof v === 'number' && Number.isFinite(v))
  );
}
