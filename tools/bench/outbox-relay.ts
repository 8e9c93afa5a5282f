/**
 * Outbox relay benchmark: drain rate of a pre-filled outbox (many streams, and one hot
 * stream), and commit-to-confirm latency under a steady write load. Runs against the local
 * MariaDB and RabbitMQ in a database and vhost of its own; a durable quorum queue is bound
 * to the exchange so that confirms wait for a real enqueue.
 *
 *   npx tsx tools/bench/outbox-relay.ts [events=20000] [streams=500]
 *   BENCH_PHASES=many,hot,steady (default: all three)
 */
import { ConfirmPublisher, connectAmqp, declareConsumerQueue } from '@cqrs/amqp';
import { createKnex, migrate } from '@cqrs/event-store';
import { MySqlLeaderLock, OutboxRelay, outboxStats, type RelayMetrics } from '@cqrs/outbox';
import { interleavedEvents, seedOutbox } from '@cqrs/outbox/testing';
import { createTestDatabase, createTestVhost, waitUntil } from '@cqrs/testing';
import { writeFileSync, mkdirSync } from 'node:fs';
import pino from 'pino';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
const EXCHANGE = 'events';
const total = Number(process.argv[2] ?? 20_000);
const streams = Number(process.argv[3] ?? 500);
const phases = new Set((process.env.BENCH_PHASES ?? 'many,hot,steady').split(','));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  const [db, vhost] = await Promise.all([
    createTestDatabase('bench_relay'),
    createTestVhost('bench_relay'),
  ]);
  const knex = createKnex(db.url);
  const conn = await connectAmqp({
    url: vhost.url,
    name: 'bench',
    logger,
    eventsExchange: EXCHANGE,
    setup: async (m) => {
      const ch = await m.createChannel();
      await declareConsumerQueue(ch, {
        queue: 'bench',
        eventsExchange: EXCHANGE,
        bindings: ['#'],
        deliveryLimit: 5,
      });
      await ch.close();
    },
  });
  const latencies: number[] = [];
  const metrics: RelayMetrics = {
    leader: () => undefined,
    published: (l) => latencies.push(...l),
    publishFailed: () => undefined,
    purged: () => undefined,
  };
  const lock = new MySqlLeaderLock({ url: db.url, logger });
  const publisher = new ConfirmPublisher(conn, { logger, maxInFlight: 256 });
  const relay = new OutboxRelay({ knex, lock, publisher, exchange: EXCHANGE, logger, metrics });
  const results: Record<string, number | string> = {};
  try {
    await migrate(knex);
    await conn.waitForConnect();

    const drain = async (label: string, events: ReturnType<typeof interleavedEvents>) => {
      // One transaction: every row becomes visible at the same instant, so the relay (which
      // is running) cannot drain part of the backlog before the clock starts.
      await seedOutbox(knex, events);
      latencies.length = 0;
      const t0 = process.hrtime.bigint();
      relay.poke();
      await waitUntil(label, async () => (await outboxStats(knex)).backlog === 0, 300_000, 5);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      results[`${label}: events`] = events.length;
      results[`${label}: events/s`] = Math.round(events.length / seconds);
      // A real consumer would drain the queue; keep it from growing across phases.
      const ch = await conn.createChannel();
      await ch.purgeQueue('bench');
      await ch.close();
    };

    relay.start();
    await waitUntil('leading', () => lock.isLeader);
    // Warm-up (JIT, connections), not measured.
    await seedOutbox(knex, interleavedEvents(50, 10, 'room', 'warm-'));
    await waitUntil('warm', async () => (await outboxStats(knex)).backlog === 0, 60_000, 5);

    if (phases.has('many'))
      await drain(
        `drain ${streams} streams`,
        interleavedEvents(streams, Math.ceil(total / streams), 'room', 'many-'),
      );
    if (phases.has('hot'))
      await drain(
        'drain 1 hot stream',
        interleavedEvents(1, Math.min(5000, total / 4), 'room', 'hot-'),
      );

    if (phases.has('steady')) {
      // Steady load: a 10-event commit every 10 ms (at most ~1000 events/s; the seeding itself is the
      // limit on a loaded machine) for 5 s.
      latencies.length = 0;
      const until = Date.now() + 5000;
      let v = 0;
      while (Date.now() < until) {
        v++;
        await seedOutbox(
          knex,
          Array.from({ length: 10 }, (_, s) => ({
            streamType: 'room',
            streamId: `steady-${s}`,
            version: v,
            type: 'RoomRateChanged',
          })),
        );
        await new Promise((r) => setTimeout(r, 10));
      }
      await waitUntil(
        'steady drained',
        async () => (await outboxStats(knex)).backlog === 0,
        60_000,
        5,
      );
      const sorted = [...latencies].sort((a, b) => a - b);
      results['steady load: events'] = sorted.length;
      results['steady load: events/s offered'] = Math.round(sorted.length / 5);
      results['commit-to-confirm p50 ms'] = +(percentile(sorted, 50) * 1000).toFixed(1);
      results['commit-to-confirm p99 ms'] = +(percentile(sorted, 99) * 1000).toFixed(1);
      results['commit-to-confirm max ms'] = +((sorted.at(-1) ?? NaN) * 1000).toFixed(1);
    }
  } finally {
    await relay.stop();
    await lock.stop();
    await publisher.close();
    await conn.close();
    await knex.destroy();
    await Promise.all([db.drop(), vhost.drop()]);
  }
  console.table(results);
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/outbox-relay.json', JSON.stringify(results, null, 2));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
