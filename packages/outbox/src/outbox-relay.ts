import { backoffDelay, sleep, type ConfirmPublisher } from '@cqrs/amqp';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { LeaderLock } from './leader-lock';
import { toAmqpMessage, type OutboxRow } from './outbox-message';
import {
  fetchUnpublished,
  markPublished,
  purgePublished,
  recordFailedAttempts,
} from './outbox-store';
import type { RelayMetrics } from './relay-metrics';

export interface OutboxRelayOptions {
  readonly knex: Knex;
  readonly lock: LeaderLock;
  readonly publisher: ConfirmPublisher;
  /** The events topic exchange. */
  readonly exchange: string;
  readonly logger: Logger;
  readonly metrics?: RelayMetrics;
  /** Rows taken per pass (default 500). */
  readonly batchSize?: number;
  /** Pause when the outbox is empty (default 50 ms). */
  readonly pollIntervalMs?: number;
  /** Published rows older than this are deleted (default one day). */
  readonly retentionSeconds?: number;
  /** How often the purge runs (default 60 s); it deletes `purgeBatchSize` rows per statement. */
  readonly purgeIntervalMs?: number;
  readonly purgeBatchSize?: number;
}

/** The outcome of one pass over a batch. */
interface PassResult {
  readonly published: number;
  /** Why the pass stopped early, if it did; the unconfirmed rows are retried next pass. */
  readonly failure?: unknown;
}

/**
 * Moves the transactional outbox to RabbitMQ. While it holds the leader lock it repeats:
 * take the oldest unpublished rows in id order, publish each exactly as stored, wait for the
 * broker's confirms, mark the confirmed rows published.
 *
 * Order and completeness:
 * - Per stream, at most one message is unconfirmed at a time: the next version of a stream
 *   is sent only after the broker confirmed the previous one. A nack, a timeout or a dropped
 *   connection can then never let version n+1 reach a queue before version n. Different
 *   streams are pipelined (up to the publisher's window).
 * - On the first failure the pass stops sending; rows not confirmed stay unpublished, and
 *   the next pass starts again from the oldest of them. No row is ever skipped.
 * - Every pass rescans `published_at IS NULL`, so rows that commit late with a lower id are
 *   published too (see outbox-store.ts).
 * - A crash between confirm and mark re-publishes rows on the next run with the same
 *   `messageId`: delivery is at least once.
 */
export class OutboxRelay {
  private readonly log: Logger;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly stopping = new AbortController();
  private wake = new AbortController();
  private loop: Promise<void> | undefined;
  private nextPurgeAt = 0;

  constructor(private readonly opts: OutboxRelayOptions) {
    this.log = opts.logger.child({ component: 'outbox-relay' });
    this.batchSize = opts.batchSize ?? 500;
    this.pollIntervalMs = opts.pollIntervalMs ?? 50;
    opts.lock.onChange((isLeader) => {
      opts.metrics?.leader(isLeader);
      this.poke();
    });
  }

  start(): void {
    this.opts.lock.start();
    this.loop ??= this.run();
  }

  /** Ends the current pass (in-flight messages get their confirms and are marked), then stops. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.poke();
    await this.loop;
  }

  /** Skips the idle pause: new rows were committed. */
  poke(): void {
    this.wake.abort();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping.signal.aborted) {
      const term = this.opts.lock.term;
      if (!term) {
        await this.idle(this.pollIntervalMs * 4);
        continue;
      }
      try {
        await this.purgeIfDue(term);
        const rows = await fetchUnpublished(this.opts.knex, this.batchSize);
        if (rows.length === 0) {
          failures = 0;
          await this.idle(this.pollIntervalMs);
          continue;
        }
        const result = await this.pass(rows, AbortSignal.any([term, this.stopping.signal]));
        if (result.failure === undefined) {
          failures = 0;
          continue;
        }
        if (term.aborted || this.stopping.signal.aborted) continue;
        // Back off further only while no row gets through; progress resets the delay.
        failures = result.published > 0 ? 1 : failures + 1;
        this.log.warn(
          { err: result.failure, published: result.published, failures },
          'publishing stopped at an unconfirmed row; retrying from it',
        );
      } catch (err) {
        failures++;
        this.log.error({ err, failures }, 'relay pass failed; retrying');
      }
      await this.idle(backoffDelay(failures, { initialMs: 100, maxMs: 5000 }));
    }
  }

  private async pass(rows: readonly OutboxRow[], signal: AbortSignal): Promise<PassResult> {
    const { publisher, exchange, knex, metrics } = this.opts;
    const lastOfStream = new Map<string, Promise<boolean>>();
    const settled: Promise<boolean>[] = [];
    const confirmed: Array<{ row: OutboxRow; latency: number }> = [];
    const failed: OutboxRow[] = [];
    let failure: unknown;
    const fetchedAt = Date.now();

    for (const row of rows) {
      if (failure !== undefined || signal.aborted) break;
      let message;
      try {
        message = toAmqpMessage(row);
      } catch (err) {
        // Never skip it: the relay stalls here until the row is repaired, loudly.
        this.log.error({ err, outboxId: row.id, eventId: row.event_id }, 'unpublishable row');
        failure = err;
        break;
      }
      const previous = lastOfStream.get(message.streamKey);
      if (previous && !(await previous)) break;
      if (failure !== undefined || signal.aborted) break;
      let sent;
      try {
        sent = await publisher.send(
          exchange,
          message.routingKey,
          message.content,
          message.options,
          signal,
        );
      } catch (err) {
        failure ??= err;
        break;
      }
      const done = sent.confirmed.then(
        () => {
          const ageAtFetch = Number(row.age_us ?? 0) / 1e6;
          confirmed.push({ row, latency: ageAtFetch + (Date.now() - fetchedAt) / 1000 });
          return true;
        },
        (err: unknown) => {
          failure ??= err;
          failed.push(row);
          return false;
        },
      );
      lastOfStream.set(message.streamKey, done);
      settled.push(done);
    }
    await Promise.all(settled);

    if (confirmed.length > 0) {
      await markPublished(
        knex,
        confirmed.map((c) => c.row.id),
      );
      metrics?.published(confirmed.map((c) => c.latency));
    }
    if (failed.length > 0) {
      metrics?.publishFailed(failed.length);
      await recordFailedAttempts(
        knex,
        failed.map((r) => r.id),
      ).catch((err: unknown) => this.log.warn({ err }, 'could not count failed attempts'));
    }
    return { published: confirmed.length, ...(failure !== undefined ? { failure } : {}) };
  }

  private async purgeIfDue(term: AbortSignal): Promise<void> {
    const now = Date.now();
    if (now < this.nextPurgeAt || term.aborted) return;
    const batch = this.opts.purgeBatchSize ?? 1000;
    const deleted = await purgePublished(
      this.opts.knex,
      this.opts.retentionSeconds ?? 86_400,
      batch,
    );
    if (deleted > 0) {
      this.opts.metrics?.purged(deleted);
      this.log.debug({ deleted }, 'purged published rows');
    }
    // A full batch means more are due: purge again on the next idle pass (one small
    // batch at a time, so publishing never waits behind a long DELETE).
    if (deleted < batch) this.nextPurgeAt = now + (this.opts.purgeIntervalMs ?? 60_000);
  }

  private async idle(ms: number): Promise<void> {
    if (this.wake.signal.aborted) {
      this.wake = new AbortController();
      return;
    }
    await sleep(ms, AbortSignal.any([this.wake.signal, this.stopping.signal]));
  }
}
