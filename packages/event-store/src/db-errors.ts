import { DependencyUnavailableError } from '@cqrs/core';

interface DriverError {
  readonly code?: string;
  readonly errno?: number;
  readonly name?: string;
  readonly message?: string;
  readonly fatal?: boolean;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_QUERY_INTERRUPTED',
]);

/** A duplicate key on the named unique index (works with MySQL's and MariaDB's messages). */
export function isDuplicateKey(err: unknown, index?: string): boolean {
  const e = err as DriverError;
  if (e?.code !== 'ER_DUP_ENTRY') return false;
  return index === undefined || (e.message ?? '').includes(index);
}

/** InnoDB chose this transaction as a deadlock victim and rolled all of it back. */
export function isDeadlock(err: unknown): boolean {
  return (err as DriverError)?.code === 'ER_LOCK_DEADLOCK';
}

/** Deadlock or lock wait timeout: the statement lost a race and may be retried. */
export function isLockContention(err: unknown): boolean {
  const code = (err as DriverError)?.code;
  return code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT';
}

/** The database could not be reached or dropped the connection (including pool timeouts). */
export function isConnectionFailure(err: unknown): boolean {
  const e = err as DriverError;
  if (!e) return false;
  if (e.name === 'KnexTimeoutError') return true;
  if (e.fatal === true) return true;
  return e.code !== undefined && CONNECTION_CODES.has(e.code);
}

/**
 * Rethrows connection failures as DependencyUnavailableError (HTTP 503) and everything else
 * unchanged. Note a failure during COMMIT leaves the outcome unknown: the client retries with
 * its Idempotency-Key and gets the original result if the commit did land.
 */
export function rethrowAsUnavailable(err: unknown): never {
  if (isConnectionFailure(err)) {
    throw new DependencyUnavailableError(
      'mysql',
      `Event store unavailable: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  throw err;
}
