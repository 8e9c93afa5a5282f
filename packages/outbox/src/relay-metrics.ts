import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { OutboxStats } from './outbox-store';

/** What the relay reports on /metrics. */
export interface RelayMetrics {
  leader(isLeader: boolean): void;
  /** `latenciesSeconds`: commit (outbox insert) to broker confirm, one per published row. */
  published(latenciesSeconds: readonly number[]): void;
  publishFailed(rows: number): void;
  purged(rows: number): void;
}

const WINDOW_SECONDS = 10;

/**
 * Registers the relay's metrics. Backlog and oldest-row age are read from the database at
 * scrape time (`stats`), so standbys and a stalled leader report them too.
 */
export function createRelayMetrics(
  registry: Registry,
  stats: () => Promise<OutboxStats>,
): RelayMetrics {
  const leader = new Gauge({
    name: 'outbox_relay_leader',
    help: '1 while this process holds the relay lock and publishes',
    registers: [registry],
  });
  leader.set(0);
  const publishedTotal = new Counter({
    name: 'outbox_relay_published_total',
    help: 'Outbox rows published and confirmed by the broker',
    registers: [registry],
  });
  const failures = new Counter({
    name: 'outbox_relay_publish_failures_total',
    help: 'Rows whose publish was nacked, timed out or lost with the channel (they are retried)',
    registers: [registry],
  });
  const purgedTotal = new Counter({
    name: 'outbox_relay_purged_total',
    help: 'Published rows deleted after the retention period',
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'outbox_relay_commit_to_confirm_seconds',
    help: 'From the outbox row insert (in the event transaction) to the broker confirm',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });

  // Published per second over a sliding window, for humans reading /metrics directly
  // (Prometheus users take rate(outbox_relay_published_total[1m])).
  const perSecond = new Array<number>(WINDOW_SECONDS).fill(0);
  let currentSecond = Math.floor(Date.now() / 1000);
  const advance = () => {
    const now = Math.floor(Date.now() / 1000);
    for (let s = currentSecond + 1; s <= Math.min(now, currentSecond + WINDOW_SECONDS); s++) {
      perSecond[s % WINDOW_SECONDS] = 0;
    }
    currentSecond = Math.max(currentSecond, now);
  };
  new Gauge({
    name: 'outbox_relay_published_per_second',
    help: `Rows published per second, averaged over the last ${WINDOW_SECONDS} s`,
    registers: [registry],
    collect() {
      advance();
      this.set(perSecond.reduce((a, b) => a + b, 0) / WINDOW_SECONDS);
    },
  });

  let lastStats: Promise<OutboxStats> | undefined;
  const readStats = () => {
    // The gauges are collected in one scrape: one query serves them all.
    lastStats ??= stats().finally(() => setTimeout(() => (lastStats = undefined), 100).unref());
    return lastStats;
  };
  new Gauge({
    name: 'outbox_backlog',
    help: 'Outbox rows not yet published',
    registers: [registry],
    async collect() {
      // NaN when the database does not answer: unknown, rather than a stale number.
      this.set(
        await readStats().then(
          (s) => s.backlog,
          () => NaN,
        ),
      );
    },
  });
  new Gauge({
    name: 'outbox_oldest_unpublished_age_seconds',
    help: 'Age of the oldest unpublished outbox row (0 when none)',
    registers: [registry],
    async collect() {
      this.set(
        await readStats().then(
          (s) => s.oldestAgeSeconds,
          () => NaN,
        ),
      );
    },
  });

  new Gauge({
    name: 'outbox_head_attempts',
    help: 'Failed publish attempts of the oldest unpublished row: growing = a poisoned row blocks the relay (park it)',
    registers: [registry],
    async collect() {
      this.set(
        await readStats().then(
          (s) => s.headAttempts,
          () => NaN,
        ),
      );
    },
  });
  new Gauge({
    name: 'outbox_parked_rows',
    help: 'Outbox rows parked by an operator, waiting to be re-queued',
    registers: [registry],
    async collect() {
      this.set(
        await readStats().then(
          (s) => s.parked,
          () => NaN,
        ),
      );
    },
  });

  return {
    leader: (isLeader) => leader.set(isLeader ? 1 : 0),
    published(latencies) {
      publishedTotal.inc(latencies.length);
      advance();
      perSecond[currentSecond % WINDOW_SECONDS]! += latencies.length;
      for (const l of latencies) latency.observe(l);
    },
    publishFailed: (rows) => failures.inc(rows),
    purged: (rows) => purgedTotal.inc(rows),
  };
}
