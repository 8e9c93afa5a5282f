import type { IdempotencyClaim } from '@cqrs/core';

type Claimed = Extract<IdempotencyClaim, { kind: 'claimed' }>;

/**
 * Keeps this process's Idempotency-Key claims alive while it works on them: every
 * `everyMs` the lease of each held claim is pushed forward (`renew`). The lease can then be
 * short (seconds): a holder that died - kill -9, a lost host - stops renewing, and its key is
 * free again one lease later instead of after a long fixed term, while a live holder on a slow
 * command keeps its key however long the command takes. Renewal stops when the claim is
 * released, completed by its append, or no longer ours (`renew` resolves false).
 */
export class ClaimRenewals {
  private readonly held = new Map<
    string,
    { readonly token: string; readonly timer: NodeJS.Timeout }
  >();

  constructor(
    private readonly renew: (claim: Claimed) => Promise<boolean>,
    private readonly everyMs: number,
  ) {}

  hold(claim: Claimed): void {
    this.drop(claim.key);
    let renewing = false;
    const timer = setInterval(() => {
      if (renewing) return; // a slow database: one renewal at a time
      renewing = true;
      this.renew(claim)
        .then((stillOurs) => {
          if (!stillOurs) this.drop(claim.key, claim.token);
        })
        // A failed renewal is retried on the next tick; if the database stays away, the lease
        // runs out and another request may take the key - which is what a lease is for (at
        // most one append still lands: completion needs a pending row and a free key).
        .catch(() => undefined)
        .finally(() => {
          renewing = false;
        });
    }, this.everyMs);
    timer.unref();
    this.held.set(claim.key, { token: claim.token, timer });
  }

  /** Stops renewing `key` (only the claim with `token`, when given). */
  drop(key: string, token?: string): void {
    const entry = this.held.get(key);
    if (!entry || (token !== undefined && entry.token !== token)) return;
    clearInterval(entry.timer);
    this.held.delete(key);
  }

  /** How many claims this process holds now (for tests and metrics). */
  get size(): number {
    return this.held.size;
  }
}
