import { backoffDelay, sleep } from '@cqrs/amqp';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { markPublished } from './outbox-store';
import type { RelayMetrics } from './relay-metrics';

const MAX_IDS_PER_UPDATE = 1000;
/** How long the first confirmed id waits for company before an UPDATE is sent. */
const GATHER_MS = 20;

/**
 * Marks confirmed rows published in the background, off the publish path. One UPDATE at a
 * time, at most one per GATHER_MS while confirms trickle in: ids confirmed meanwhile go out
 * together, so the batch grows with the confirm rate and the database sees a few dozen
 * commits per second at most instead of one per row. (A row waiting for its mark costs
 * nothing but a few bytes in the relay's scans: it is known to be in the pipeline.)
 *
 * Only ids handed to `confirmed()` are ever marked; the caller calls it from the broker's ack.
 */
export class PublishedMarker {
  private ids: string[] = [];
  private latencies: number[] = [];
  private running: Promise<void> | undefined;
  private gathering: NodeJS.Timeout | undefined;
  private closing = false;
  private failures = 0;
  /** Ids whose UPDATE has committed since the last `takeMarked()`. */
  private marked: string[] = [];

  constructor(
    private readonly knex: Knex,
    private readonly log: Logger,
    private readonly metrics: RelayMetrics | undefined,
  ) {}

  /** The broker confirmed row `id`; `latencySeconds` is its commit -> confirm time. */
  confirmed(id: string, latencySeconds: number): void {
    this.ids.push(id);
    this.latencies.push(latencySeconds);
    if (this.running) return;
    if (this.ids.length >= MAX_IDS_PER_UPDATE) this.start();
    else this.gathering ??= setTimeout(() => this.start(), GATHER_MS);
  }

  /**
   * Ids whose UPDATE committed since the previous call. A query started after this call
   * cannot return them as unpublished any more.
   */
  takeMarked(): readonly string[] {
    const out = this.marked;
    this.marked = [];
    return out;
  }

  /**
   * Marks what is pending. On a database error it retries once and then gives up: the rows
   * stay unpublished and are published again later (at least once), never lost.
   */
  async close(): Promise<void> {
    this.closing = true;
    if (this.ids.length > 0) this.start();
    while (this.running) await this.running;
  }

  private start(): void {
    if (this.gathering) clearTimeout(this.gathering);
    this.gathering = undefined;
    this.running ??= this.markBatch().finally(() => {
      this.running = undefined;
      if (this.ids.length === 0) return;
      if (this.closing || this.ids.length >= MAX_IDS_PER_UPDATE) this.start();
      else this.gathering = setTimeout(() => this.start(), GATHER_MS);
    });
  }

  /** One UPDATE of the oldest pending ids; on failure they go back to the front. */
  private async markBatch(): Promise<void> {
    const ids = this.ids.splice(0, MAX_IDS_PER_UPDATE);
    const latencies = this.latencies.splice(0, ids.length);
    try {
      await markPublished(this.knex, ids);
    } catch (err) {
      this.failures++;
      if (this.closing && this.failures > 1) {
        this.log.warn(
          { err, rows: ids.length + this.ids.length },
          'could not mark confirmed rows published; they will be published again',
        );
        this.ids = [];
        this.latencies = [];
        return;
      }
      this.log.warn(
        { err, rows: ids.length, failures: this.failures },
        'marking rows published failed',
      );
      this.ids.unshift(...ids);
      this.latencies.unshift(...latencies);
      if (!this.closing) await sleep(backoffDelay(this.failures, { initialMs: 100, maxMs: 2000 }));
      return;
    }
    this.failures = 0;
    for (const id of ids) this.marked.push(id);
    this.metrics?.published(latencies);
  }
}
