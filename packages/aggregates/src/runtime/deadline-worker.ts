import {
  DomainRejectionError,
  type DeadlineStats,
  type DeadlineStorePort,
  type DueDeadline,
} from '@cqrs/core';
import type { AggregateRuntime } from './aggregate-runtime';

/** What became of a deadline a worker claimed. */
export type DeadlineOutcome =
  /** The command ran: its events left the state, and the append deleted the deadline. */
  | 'fired'
  /** The stream had moved on (confirmed, cancelled, already expired): nothing to do. */
  | 'moot'
  /** Anything else: the lease runs out and a worker (maybe this one) tries again. */
  | 'failed';

export interface DeadlineHooks {
  onDeadline?(deadline: DueDeadline, outcome: DeadlineOutcome, error?: unknown): void;
  onStats?(stats: DeadlineStats): void;
  /** A poll that failed (database away): the worker keeps polling. */
  onError?(error: unknown): void;
}

export interface DeadlineWorkerOptions {
  readonly store: DeadlineStorePort;
  readonly runtime: Pick<AggregateRuntime, 'execute'>;
  /** How often due deadlines are looked for. Default 1 000 ms. */
  readonly pollIntervalMs?: number;
  /** Deadlines claimed per poll. Default 50. */
  readonly batchSize?: number;
  /** How long a claimed deadline is this worker's before another may take it. Default 30 s. */
  readonly leaseMs?: number;
  readonly hooks?: DeadlineHooks;
}

/**
 * Fires durable deadlines (docs/room-calendar.md "Deadlines"). Every process may run one:
 * a due row is leased by one worker (`SKIP LOCKED`, lease committed before the command runs),
 * the command goes through the runtime like any other, and the append of its events deletes
 * the row in the same transaction - so a deadline takes effect once, whichever worker fires
 * it and however often a dead worker's lease is taken over.
 */
export class DeadlineWorker {
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly hooks: DeadlineHooks;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(private readonly options: DeadlineWorkerOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.batchSize = options.batchSize ?? 50;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.hooks = options.hooks ?? {};
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops polling and waits for the deadlines in hand. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One poll: claims the due deadlines and fires them; resolves how many it claimed. */
  async fireDue(): Promise<number> {
    const due = await this.options.store.claimDue(this.batchSize, this.leaseMs);
    await Promise.all(due.map((d) => this.fire(d)));
    this.hooks.onStats?.(await this.options.store.deadlineStats());
    return due.length;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.fireDue()
        .catch((error: unknown) => {
          this.hooks.onError?.(error);
          return 0;
        })
        // A full batch: more may be due, go again at once.
        .then((n) => this.schedule(n >= this.batchSize ? 0 : this.pollIntervalMs));
    }, ms);
    this.timer.unref();
  }

  private async fire(deadline: DueDeadline): Promise<void> {
    try {
      await this.options.runtime.execute({
        aggregateType: deadline.streamType,
        aggregateId: deadline.streamId,
        command: { type: deadline.command, data: {} },
        metadata: { causationId: `deadline:${deadline.name}`, actor: 'deadline-worker' },
      });
      this.hooks.onDeadline?.(deadline, 'fired');
    } catch (error) {
      if (error instanceof DomainRejectionError && error.rule === 'lifecycle') {
        // The stream left the state by another path; its append normally deleted the row
        // already, this removes one that outlived it (e.g. a rebuilt table).
        await this.options.store.completeDeadline(deadline);
        this.hooks.onDeadline?.(deadline, 'moot');
        return;
      }
      this.hooks.onDeadline?.(deadline, 'failed', error);
    }
  }
}
