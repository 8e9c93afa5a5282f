import { createHash } from 'node:crypto';
import type { IdempotencyRecord } from './event-store-port';

/** What claiming a key found: the key is ours to use, or it already has a result to replay. */
export type IdempotencyClaim =
  | {
      readonly kind: 'claimed';
      readonly key: string;
      readonly fingerprint: string;
      readonly token: string;
    }
  | { readonly kind: 'replay'; readonly record: IdempotencyRecord };

/**
 * The port that guards Idempotency-Keys (docs/event-store.md "Idempotency"); the MySQL event
 * store implements it. A request with a key claims it before deciding; the append completes
 * the claim in its transaction, or the caller releases it when the command failed.
 */
export interface IdempotencyGate {
  /**
   * `claimed`: go ahead, then append with `idempotency: { key, fingerprint }` or release.
   * `replay`: the key completed with the same request. Throws IdempotencyConflictError
   * `in-flight` while another request holds the key, `mismatch` when it served another request.
   */
  claimIdempotencyKey(key: string, fingerprint: string): Promise<IdempotencyClaim>;
  /** Gives a claimed key back after the command failed, so a retry may use it at once. */
  releaseIdempotencyKey(claim: Extract<IdempotencyClaim, { kind: 'claimed' }>): Promise<void>;
}

/** A stable digest of a request (keys sorted at every level), to compare repeats of a key. */
export function fingerprintOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
