import { ConfirmPublisher, connectAmqp, declareConsumerQueue } from '@cqrs/amqp';
import { createKnex, MySqlEventStore } from '@cqrs/event-store';
import {
  MySqlLeaderLock,
  OutboxRelay,
  toOutgoingMessage,
  type OutboxRow,
  type RelayMetrics,
} from '@cqrs/outbox';
import { interleavedEvents, seedOutbox } from '@cqrs/outbox/testing';
import { createTestVhost, waitUntil } from '@cqrs/testing';
import { connect, type ConfirmChannel } from 'amqplib';
import pino from 'pino';
import { fetchManagement } from '@cqrs/stack';
import { benchDatabase, type Benchmark, type BenchContext } from './context';
import {
  abRounds,
  Latencies,
  round,
  throughputRow,
  type LoopResult,
  type ResultRow,
} from './harness';

const EXCHANGE = 'events';
const QUEUE = 'bench-sink';
const WINDOW = 256;
const STREAMS = 500;
const LATENCY_RATE = 200; // events per second, steady
const LATENCY_P99_MS = 50;

/** The same rounds in both modes (large enough that polling and start-up do not count); quick has fewer. */
const timing = (quick: boolean) =>
  quick
    ? { pairs: 2, events: 10_000, latencyMs: 10_000 }
    : { pairs: 5, events: 10_000, latencyMs: 30_000 };

/** amqplib alone: confirm-publish the messages with at most `WINDOW` unconfirmed. */
async function rawPublish(
  channel: ConfirmChannel,
  messages: ReturnType<typeof toOutgoingMessage>[],
  onProgress: (n: number) => void,
): Promise<void> {
  let inFlight = 0;
  let confirmed = 0;
  let failure: Error | undefined;
  let slot: (() => void) | undefined;
  let allDone: (() => void) | undefined;
  const finished = new Promise<void>((r) => (allDone = r));
  for (const m of messages) {
    if (failure) throw failure;
    while (inFlight >= WINDOW) await new Promise<void>((r) => (slot = r));
    inFlight++;
    const ok = channel.publish(EXCHANGE, m.routingKey, m.content, m.options, (err) => {
      if (err) failure ??= err instanceof Error ? err : new Error(String(err));
      inFlight--;
      confirmed++;
      if (confirmed % 500 === 0) onProgress(confirmed);
      slot?.();
      slot = undefined;
      if (confirmed === messages.length) allDone?.();
    });
    if (!ok) await new Promise<void>((r) => channel.once('drain', () => r()));
  }
  await finished;
  if (failure) throw failure;
}

/**
 * R3: the relay draining a pre-filled outbox (fetch, publish with confirms, mark published)
 * against amqplib confirm-publishing the very same messages with the same window; a durable
 * quorum queue is bound to the exchange so a confirm means "enqueued".
 * R3-latency: appends through the event store at a steady rate while the relay runs;
 * commit -> broker confirm as the relay measures it (RelayMetrics.published).
 */
export const r3: Benchmark = {
  name: 'R3 outbox relay',
  rows: [
    { id: 'R3', unit: 'events/s', target: 'ratio >= 0.8' },
    { id: 'R3-latency', unit: 'ms', target: `p99 <= ${LATENCY_P99_MS} ms` },
  ],
  plannedMs: (quick) => (quick ? 25_000 : 65_000),
  async run(ctx: BenchContext): Promise<ResultRow[]> {
    const t = timing(ctx.quick);
    const logger = pino({ level: 'error' });
    const db = await benchDatabase(ctx, 'r3');
    const vhost = await createTestVhost('bench r3');
    ctx.defer(() => vhost.drop());
    const knex = createKnex(db.url);
    ctx.defer(() => knex.destroy());
    const conn = await connectAmqp({
      url: vhost.url,
      name: 'bench-relay',
      logger,
      setup: async (model) => {
        const ch = await model.createChannel();
        await declareConsumerQueue(ch, {
          queue: QUEUE,
          eventsExchange: EXCHANGE,
          bindings: ['#'],
          deliveryLimit: 5,
        });
        await ch.close();
      },
    });
    ctx.defer(() => conn.close());
    await conn.waitForConnect();
    ctx.durability.queueType = await queueType(vhost.managementUrl, vhost.vhost);

    let latencies: number[] = [];
    let marked = 0;
    const metrics: RelayMetrics = {
      leader: () => undefined,
      published: (l) => {
        marked += l.length;
        latencies.push(...l);
      },
      publishFailed: () => undefined,
      purged: () => undefined,
    };
    // The outbox-relay app's defaults: batch 500, window 256, poll 5..50 ms (adaptive).
    const lock = new MySqlLeaderLock({ url: db.url, logger });
    const publisher = new ConfirmPublisher(conn, { logger, maxInFlight: WINDOW });
    const relay = new OutboxRelay({ knex, lock, publisher, exchange: EXCHANGE, logger, metrics });
    ctx.defer(async () => {
      await relay.stop();
      await lock.stop();
      await publisher.close();
    });
    const raw = await connect(vhost.url, { noDelay: true });
    ctx.defer(() => raw.close());
    const rawChannel = await raw.createConfirmChannel();
    const purge = async () => {
      const ch = await conn.createChannel();
      await ch.purgeQueue(QUEUE);
      await ch.close();
    };
    // An index probe, not outboxStats' COUNT(*): counting a 15 000-row backlog every 10 ms
    // would load MariaDB - on the cores the relay and the broker share - during our rounds only.
    const backlogGone = async () => {
      const [found] = (await knex.raw(
        'SELECT 1 AS x FROM outbox WHERE published_at IS NULL LIMIT 1',
      )) as [unknown[]];
      return found.length === 0;
    };

    relay.start();
    await waitUntil('relay leadership', () => lock.isLeader, 30_000);
    ctx.progress.phase('warm-up');
    await seedOutbox(knex, interleavedEvents(50, 10, 'room', 'warm-'));
    relay.poke();
    await waitUntil('warm-up drained', backlogGone, 60_000, 10);

    const perStream = Math.ceil(t.events / STREAMS);
    const published: OutboxRow[][] = [];
    const ours = async (r: number): Promise<LoopResult> => {
      // One transaction: every row becomes visible to the relay at the same instant.
      await seedOutbox(knex, interleavedEvents(STREAMS, perStream, 'room', `r${r}-`));
      const started = performance.now();
      relay.poke();
      const markedBefore = marked;
      await waitUntil(
        'outbox drained',
        async () => {
          ctx.progress.tick(marked - markedBefore);
          return backlogGone();
        },
        300_000,
        10,
      );
      const elapsedMs = performance.now() - started;
      // The exact rows just published are the baseline's payloads.
      const [rows] = (await knex.raw(
        `SELECT id, event_id, event_type, routing_key, payload, headers,
                DATE_FORMAT(occurred_at, '%Y-%m-%d %H:%i:%s.%f') AS occurred_at, NULL AS age_us
           FROM outbox o JOIN (SELECT event_id AS e FROM events WHERE stream_id LIKE ?) s
             ON s.e = o.event_id ORDER BY id`,
        [`r${r}-%`],
      )) as [OutboxRow[]];
      published[r] = rows;
      await purge();
      return { ops: STREAMS * perStream, elapsedMs, latencies: new Latencies() };
    };
    const baseline = async (r: number): Promise<LoopResult> => {
      // In a pair run baseline first, the rows of the previous round (same shape).
      const messages = (published[r] ?? published.at(-1) ?? []).map(toOutgoingMessage);
      const started = performance.now();
      await rawPublish(rawChannel, messages, (n) => ctx.progress.tick(n));
      const elapsedMs = performance.now() - started;
      await purge();
      return { ops: messages.length, elapsedMs, latencies: new Latencies() };
    };
    const drain = await abRounds({
      label: `drain ${STREAMS * perStream} rows`,
      pairs: t.pairs,
      progress: ctx.progress,
      ours,
      baseline,
    });
    const rows: ResultRow[] = [
      throughputRow('R3', 'events/s', 0.8, drain, {
        rowsPerRound: STREAMS * perStream,
        streams: STREAMS,
        window: WINDOW,
        queue: 'durable quorum queue bound to #',
      }),
    ];

    ctx.progress.phase(`steady ${LATENCY_RATE} events/s`);
    latencies = [];
    const store = new MySqlEventStore(knex);
    let sent = 0;
    const started = Date.now();
    const pending = new Set<Promise<unknown>>();
    while (Date.now() - started < t.latencyMs) {
      const due = Math.floor(((Date.now() - started) * LATENCY_RATE) / 1000);
      while (sent < due) {
        const v = sent++;
        const p = store
          .appendToStream({
            streamType: 'room',
            streamId: `steady-${v}`,
            expectedVersion: 0,
            events: [{ type: 'RoomRateChanged', data: { ratePerNight: 10_000 + v } }],
            metadata: { actor: 'bench' },
          })
          .finally(() => pending.delete(p));
        pending.add(p);
      }
      ctx.progress.tick(latencies.length);
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(pending);
    await waitUntil('steady load published', backlogGone, 60_000, 10);
    const lat = new Latencies();
    for (const s of latencies) lat.add(s * 1000);
    const pct = lat.percentiles();
    rows.push({
      id: 'R3-latency',
      ours: pct.p99,
      baseline: null,
      unit: 'ms',
      ratio: null,
      target: `p99 <= ${LATENCY_P99_MS} ms`,
      met: pct.p99 === null ? null : pct.p99 <= LATENCY_P99_MS,
      ...pct,
      details: {
        offeredPerSecond: LATENCY_RATE,
        achievedPerSecond: round((sent * 1000) / t.latencyMs, 1),
        events: lat.count,
        measuredBy: 'RelayMetrics.published: outbox row created_at -> broker confirm',
        relayPoll:
          'adaptive 5..50 ms (app defaults RELAY_MIN_POLL_INTERVAL_MS, RELAY_POLL_INTERVAL_MS)',
      },
    });
    return rows;
  },
};

async function queueType(api: string, vhost: string): Promise<string> {
  const res = await fetchManagement(
    api,
    `/api/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(QUEUE)}`,
  );
  const q = (await res.json()) as { type?: string; durable?: boolean };
  return `${q.type ?? 'unknown'}${q.durable ? ' (durable)' : ''}, persistent messages, publisher confirms`;
}
