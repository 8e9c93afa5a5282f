import { backoffDelay } from '@cqrs/amqp';
import type { EventPublisher } from '@cqrs/core';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { LeaderLock } from './leader-lock';
import { toOutgoingMessage, type OutboxRow } from './outbox-message';
import {
  fetchOutboxRows,
  fetchUnpublishedIds,
  purgePublished,
  recordFailedAttempts,
} from './outbox-store';
import { pollPause } from './poll-pause';
import { PublishedMarker } from './published-marker';
import type { RelayMetrics } from './relay-metrics';

export interface OutboxRelayOptions {
  readonly knex: Knex;
  readonly lock: LeaderLock;
  /** Where messages go (RabbitMQ: `@cqrs/amqp`'s ConfirmPublisher). */
  readonly publisher: EventPublisher;
  /** The events topic exchange. */
  readonly exchange: string;
  readonly logger: Logger;
  readonly metrics?: RelayMetrics;
  /** Rows taken per page (default 500). */
  readonly batchSize?: number;
  /** Longest pause between probes of an idle outbox (default 50 ms). */
  readonly pollIntervalMs?: number;
  /** Shortest pause, used while rows keep arriving (default 5 ms); see poll-pause.ts. */
  readonly minPollIntervalMs?: number;
  /** Published rows older than this are deleted (default one day). */
  readonly retentionSeconds?: number;
  /** How often the purge runs (default 60 s); it deletes `purgeBatchSize` rows per statement. */
  readonly purgeIntervalMs?: number;
  readonly purgeBatchSize?: number;
}

/** How a run of the publishing pipeline ended. */
interface RunResult {
  readonly published: number;
  /** True when the outbox was seen empty during the run (the stall, if any, is over). */
  readonly sawEmpty: boolean;
  /** Why it stopped, unless leadership ended or the relay is stopping. */
  readonly failure?: unknown;
  /** The failure was a publish (nack, timeout, lost channel), not the database. */
  readonly publishFailure?: boolean;
}

/** The oldest unpublished rows not already in the pipeline, in id order. */
interface Page {
  readonly fresh: readonly OutboxRow[];
  /** More unpublished rows may follow. */
  readonly more: boolean;
  /** `Date.now()` when the rows were read (their `age_us` is measured then). */
  readonly fetchedAt: number;
}

/** The newest message of a stream in the pipeline. */
interface StreamTail {
  settled: boolean;
  ok: boolean;
  readonly done: Promise<boolean>;
}

/**
 * Moves the transactional outbox to RabbitMQ. While it holds the leader lock it reads the
 * unpublished rows in id order and publishes each exactly as stored, without stopping
 * between pages: the next page is read while the current one is being published and
 * confirmed, and confirmed rows are marked published in the background, in batches
 * (PublishedMarker).
 *
 * Order and completeness:
 * - Per stream, at most one message is unconfirmed at a time: the next version of a stream
 *   is sent only after the broker confirmed the previous one. A nack, a timeout or a dropped
 *   connection can then never let version n+1 reach a queue before version n. Different
 *   streams are pipelined (up to the publisher's window).
 * - Every page is read from the first unpublished row (ids first, from the index, in one
 *   snapshot; then those rows), skipping the rows this run has already taken and not yet
 *   seen marked. So rows that commit late with a lower id are published too, and a page
 *   never holds version n+1 of a stream without version n having been taken before or in
 *   it: the append path commits n before it inserts n+1, or both in one transaction.
 * - On the first failure the relay stops sending, waits for the messages in flight, marks
 *   the confirmed ones and starts again - after a backoff - from the oldest unpublished row.
 *   No row is ever skipped; a row is marked only after its confirm.
 * - A crash between confirm and mark re-publishes rows on the next run with the same
 *   `messageId`: delivery is at least once.
 */
export class OutboxRelay {
  private readonly log: Logger;
  private readonly batchSize: number;
  private readonly maxPollMs: number;
  private readonly minPollMs: number;
  private readonly stopping = new AbortController();
  private wake = new AbortController();
  private loop: Promise<void> | undefined;
  private nextPurgeAt = 0;
  private rowsFoundAt = 0;

  constructor(private readonly opts: OutboxRelayOptions) {
    this.log = opts.logger.child({ component: 'outbox-relay' });
    this.batchSize = opts.batchSize ?? 500;
    this.maxPollMs = opts.pollIntervalMs ?? 50;
    this.minPollMs = Math.min(opts.minPollIntervalMs ?? 5, this.maxPollMs);
    opts.lock.onChange((isLeader) => {
      opts.metrics?.leader(isLeader);
      this.poke();
    });
  }

  start(): void {
    this.opts.lock.start();
    this.loop ??= this.run();
  }

  /** Stops sending; messages in flight get their confirms and are marked; then returns. */
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
        await this.idle(this.maxPollMs * 4);
        continue;
      }
      const signal = AbortSignal.any([term, this.stopping.signal]);
      const result = await this.publishWhileLeading(signal);
      if (result.failure === undefined || signal.aborted) {
        failures = 0;
        continue;
      }
      // Back off further only while no row gets through; progress resets the delay.
      failures = result.published > 0 || result.sawEmpty ? 1 : failures + 1;
      if (result.publishFailure) {
        this.log.warn(
          { err: result.failure, published: result.published, failures },
          'publishing stopped at an unconfirmed row; retrying from it',
        );
      } else {
        this.log.error({ err: result.failure, failures }, 'relay pass failed; retrying');
      }
      await this.idle(backoffDelay(failures, { initialMs: 100, maxMs: 5000 }));
    }
  }

  /**
   * The pipeline: page through the unpublished rows and publish them until `signal` aborts
   * or something fails. Returns after every message sent has settled and the confirmed ones
   * are marked.
   */
  private async publishWhileLeading(signal: AbortSignal): Promise<RunResult> {
    const { publisher, exchange, knex } = this.opts;
    const marker = new PublishedMarker(knex, this.log, this.opts.metrics);
    // Rows taken into a page in this run whose mark has not committed yet: the next reads
    // (which always start from the first unpublished row) must not take them again.
    const claimed = new Set<string>();
    const tails = new Map<string, StreamTail>();
    let unsettled = 0;
    let allSettled: (() => void) | undefined;
    const failed: string[] = [];
    let failure: unknown;
    let publishFailure = false;
    let published = 0;
    let sawEmpty = false;

    const fetchPage = async (): Promise<Page> => {
      // Marks committed before this SELECT starts cannot be in its result.
      for (const id of marker.takeMarked()) claimed.delete(id);
      // Room for every claimed row the list may still contain, plus a full page of others.
      const limit = this.batchSize + claimed.size;
      const ids = await fetchUnpublishedIds(knex, limit);
      const freshIds: string[] = [];
      for (const id of ids) {
        if (claimed.has(id)) continue;
        if (freshIds.length === this.batchSize) break;
        freshIds.push(id);
        // Claimed now, not when sent: the next page is read while this one is published.
        claimed.add(id);
      }
      const more = ids.length === limit || freshIds.length === this.batchSize;
      const fetchedAt = Date.now();
      const fresh = await fetchOutboxRows(knex, freshIds);
      return { fresh, more, fetchedAt };
    };

    /** Follows one sent row to its confirm: stream order, marking, failure. */
    const track = (
      row: OutboxRow,
      streamKey: string,
      confirmed: Promise<void>,
      fetchedAt: number,
    ): void => {
      const ageAtFetch = Number(row.age_us ?? 0) / 1e6;
      const settle = (ok: boolean) => {
        entry.settled = true;
        entry.ok = ok;
        if (tails.get(streamKey) === entry) tails.delete(streamKey);
        if (--unsettled === 0) allSettled?.();
        return ok;
      };
      const entry: StreamTail = {
        settled: false,
        ok: false,
        done: confirmed.then(
          () => {
            published++;
            marker.confirmed(row.id, ageAtFetch + (Date.now() - fetchedAt) / 1000);
            return settle(true);
          },
          (err: unknown) => {
            if (failure === undefined) {
              failure = err;
              publishFailure = true;
            }
            failed.push(row.id);
            return settle(false);
          },
        ),
      };
      unsettled++;
      tails.set(streamKey, entry);
    };

    try {
      let next: Promise<Page> | undefined;
      while (!signal.aborted && failure === undefined) {
        if (!next) await this.purgeIfDue(signal);
        const page = await (next ?? fetchPage());
        next = undefined;
        // Read ahead while this page is published.
        if (page.more) {
          next = fetchPage();
          next.catch(() => undefined);
        }

        for (const row of page.fresh) {
          let message;
          try {
            message = toOutgoingMessage(row);
          } catch (err) {
            // Never skip it: the relay stalls here, loudly and counted (outbox_head_attempts),
            // until the row is repaired or an operator parks it (parking.ts).
            this.log.error({ err, outboxId: row.id, eventId: row.event_id }, 'unpublishable row');
            failed.push(row.id);
            failure = err;
            break;
          }
          const tail = tails.get(message.streamKey);
          if (tail && !tail.settled) await tail.done;
          if (tail && !tail.ok) break;
          if (failure !== undefined || signal.aborted) break;
          let sent = publisher.trySend(
            exchange,
            message.routingKey,
            message.content,
            message.options,
          );
          if (!sent) {
            try {
              sent = await publisher.send(
                exchange,
                message.routingKey,
                message.content,
                message.options,
                signal,
              );
            } catch (err) {
              if (failure === undefined) {
                failure = err;
                publishFailure = true;
              }
              break;
            }
          }
          track(row, message.streamKey, sent.confirmed, page.fetchedAt);
        }
        if (page.fresh.length > 0) this.rowsFoundAt = Date.now();
        else if (!page.more) {
          sawEmpty = true;
          await this.idle(
            pollPause(Date.now() - this.rowsFoundAt, this.minPollMs, this.maxPollMs),
            signal,
          );
        }
      }
      await next?.catch(() => undefined);
    } catch (err) {
      failure ??= err;
    }

    if (unsettled > 0) await new Promise<void>((resolve) => (allSettled = resolve));
    await marker.close();
    if (failed.length > 0) {
      this.opts.metrics?.publishFailed(failed.length);
      await recordFailedAttempts(knex, failed).catch((err: unknown) =>
        this.log.warn({ err }, 'could not count failed attempts'),
      );
    }
    return {
      published,
      sawEmpty,
      ...(failure !== undefined ? { failure, publishFailure } : {}),
    };
  }

  private async purgeIfDue(signal: AbortSignal): Promise<void> {
    const now = Date.now();
    if (now < this.nextPurgeAt || signal.aborted) return;
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
    // A full batch means more are due: purge again before the next page (one small batch
    // at a time, so publishing never waits behind a long DELETE).
    if (deleted < batch) this.nextPurgeAt = now + (this.opts.purgeIntervalMs ?? 60_000);
  }

  /** Sleeps `ms`, or less when poked, stopped or `signal` aborts. */
  private async idle(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.wake.signal.aborted) {
      this.wake = new AbortController();
      return;
    }
    const signals = [this.wake.signal, this.stopping.signal];
    if (signal) signals.push(signal);
    await pause(ms, signals);
  }
}

/**
 * `sleep` on several signals. Not `AbortSignal.any`: the relay pauses every few ms while
 * rows trickle in, and on Node 20 every combined signal stays referenced by its sources.
 */
function pause(ms: number, signals: readonly AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    if (signals.some((s) => s.aborted)) return resolve();
    const done = () => {
      clearTimeout(timer);
      for (const s of signals) s.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const s of signals) s.addEventListener('abort', done, { once: true });
  });
}
