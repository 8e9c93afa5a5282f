import { AmqpEventSubscription, connectAmqp, declarePartitionedQueues } from '@cqrs/amqp';
import { eventMessageProperties } from '@cqrs/core';
import { toOutboxMessage } from '@cqrs/event-store';
import { readModels } from '@cqrs/hotel-read-models';
import { ensureReadModelIndices, IndexNames, ProjectionEngine, Projector } from '@cqrs/search';
import { createTestIndexPrefix, createTestVhost, waitUntil } from '@cqrs/testing';
import { connect } from 'amqplib';
import pino from 'pino';
import type { Benchmark, BenchContext } from './context';
import type { ResultRow } from './harness';
import { hotelEvents } from './hotel-events';

const EXCHANGE = 'events';
const SCALES = [1, 2, 4] as const;

/**
 * R4-scale: the projector with 1, 2 and 4 partitions, each applied by an instance of its
 * own (one Projector, connection and engine per instance, all in this process), over the
 * same history. On a two-core machine the row shows that partitions add nothing when there
 * is no CPU to add - and what they cost. No baseline: the ratio is against one partition.
 */
export const r4Scale: Benchmark = {
  name: 'R4-scale',
  rows: SCALES.map((n) => ({ id: `R4-scale@${n}`, unit: 'events/s', target: 'report' })),
  plannedMs: () => 40_000,
  async run(ctx: BenchContext): Promise<ResultRow[]> {
    // One size in both modes: smaller drains are dominated by the instances' start-up.
    const events = 10_000;
    const logger = pino({ level: 'error' });
    const es = await createTestIndexPrefix('bench r4 scale');
    ctx.defer(() => es.drop());
    const vhost = await createTestVhost('bench r4 scale');
    ctx.defer(() => vhost.drop());
    const raw = await connect(vhost.url, { noDelay: true });
    ctx.defer(() => raw.close());
    const pub = await raw.createConfirmChannel();

    const perSecond = new Map<number, number>();
    for (const n of SCALES) {
      ctx.progress.phase(`${n} partition(s) / instance(s)`);
      const names = new IndexNames(`${es.prefix}-s${n}`);
      await ensureReadModelIndices(es.client, names, readModels);
      const queues = { name: `${names.prefix}.query-projector`, partitions: n };
      await declarePartitionedQueues(pub, {
        ...queues,
        eventsExchange: EXCHANGE,
        deliveryLimit: 20,
      });
      for (const e of hotelEvents(events, `s${n}`)) {
        const m = toOutboxMessage(e);
        pub.publish(EXCHANGE, m.routingKey, Buffer.from(m.payload), {
          ...eventMessageProperties({ ...e, occurredAtMs: Date.parse(e.occurredAt) }),
          headers: m.headers,
        });
      }
      await pub.waitForConfirms();
      let applied = 0;
      const instances = await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const connection = await connectAmqp({
            url: vhost.url,
            name: `bench-scale-${n}-${i}`,
            logger,
            eventsExchange: EXCHANGE,
          });
          const engine = new ProjectionEngine({ client: es.client, logger });
          const projector = new Projector({
            subscription: new AmqpEventSubscription({
              connection,
              logger,
              queues,
              eventsExchange: EXCHANGE,
              rebalanceEveryMs: 200,
            }),
            logger,
            engine,
            targets: readModels.map((model) => ({
              model,
              index: names.alias(model.projection.name),
            })),
            prefetch: 2000,
            maxBatch: 1000,
            maxDelayMs: 5,
            onEventsApplied: (batch) => (applied += batch.length),
          });
          return { connection, projector };
        }),
      );
      // The first instance takes every partition; the others join at once and are handed
      // their share, as a scaled-out deployment would (that hand-over is part of the time).
      const started = performance.now();
      for (const { projector } of instances) await projector.start();
      try {
        await waitUntil('every event applied', () => applied >= events, 300_000, 5);
      } finally {
        for (const { projector, connection } of instances) {
          await projector.stop();
          await connection.close();
        }
      }
      perSecond.set(n, (events / (performance.now() - started)) * 1000);
    }
    const one = perSecond.get(1)!;
    return SCALES.map((n) => ({
      id: `R4-scale@${n}`,
      ours: Math.round(perSecond.get(n)!),
      baseline: Math.round(one),
      unit: 'events/s',
      ratio: Math.round((perSecond.get(n)! / one) * 100) / 100,
      target: 'report',
      met: null,
      p50: null,
      p95: null,
      p99: null,
      details: { events, partitions: n, instances: n, baseline: 'R4-scale@1' },
    }));
  },
};
