import { AmqpEventSubscription, connectAmqp, declarePartitionedQueues } from '@cqrs/amqp';
import { eventMessageProperties } from '@cqrs/core';
import { createKnex, headPosition, readAll, toOutboxMessage } from '@cqrs/event-store';
import {
  ensureReadModelIndices,
  IndexNames,
  ProjectionEngine,
  Projector,
  Rebuilder,
  resolveAlias,
  type ReadModel,
} from '@cqrs/search';
import { createTestIndexPrefix, createTestVhost, waitUntil } from '@cqrs/testing';
import { connect } from 'amqplib';
import { createConnection } from 'mysql2/promise';
import pino from 'pino';
// The query service's read models (mappings + projections). They live in the app because
// they join @cqrs/hotel (domain) with @cqrs/search (Elasticsearch), which packages may not;
// see docs/performance.md "Hooks".
import { readModels } from '@cqrs/hotel-read-models';
import {
  benchDatabase,
  mysqlConnectionOptions,
  type Benchmark,
  type BenchContext,
} from './context';
import { abRounds, Latencies, throughputRow, type LoopResult, type ResultRow } from './harness';
import {
  bulkIndex,
  hotelEvents,
  insertEvents,
  readDocuments,
  type IndexedDocument,
} from './hotel-events';

const EXCHANGE = 'events';
/** The query service's defaults (PROJECTOR_MAX_BATCH, PROJECTOR_PREFETCH). */
const MAX_BATCH = 1000;
const PREFETCH = 2000;

/** The same warm-up round and round size in both modes; quick has fewer measured pairs. */
const r4Timing = (quick: boolean) => ({ warmupPairs: 1, pairs: quick ? 2 : 4, events: 10_000 });
const rebuildTiming = (quick: boolean) => ({
  warmupPairs: 1,
  pairs: quick ? 2 : 4,
  events: 20_000,
});

/** Each model's documents, read from the indices behind `names`' aliases. */
async function finalDocuments(
  client: import('@elastic/elasticsearch').Client,
  names: IndexNames,
): Promise<Array<{ model: ReadModel; docs: IndexedDocument[] }>> {
  const out = [];
  for (const model of readModels) {
    const index = await resolveAlias(client, names.alias(model.projection.name));
    out.push({ model, docs: index ? await readDocuments(client, index) : [] });
  }
  return out;
}

/**
 * The bulk helper writing the same documents into fresh indices (same templates/mappings).
 * `timeCreation`: the indices' creation counts too - as it does for the rebuild, whose new
 * indices are part of its work (R4's projector writes indices that exist before it starts).
 */
async function bulkBaseline(
  client: import('@elastic/elasticsearch').Client,
  names: IndexNames,
  sets: Array<{ model: ReadModel; docs: IndexedDocument[] }>,
  timeCreation = false,
): Promise<number> {
  let started = performance.now();
  await ensureReadModelIndices(client, names, readModels);
  if (!timeCreation) started = performance.now();
  await Promise.all(
    sets.map(async ({ model, docs }) => {
      const index = await resolveAlias(client, names.alias(model.projection.name));
      await bulkIndex(client, index!, docs);
    }),
  );
  return performance.now() - started;
}

async function refreshInterval(
  client: import('@elastic/elasticsearch').Client,
  names: IndexNames,
): Promise<string> {
  const index = await resolveAlias(client, names.alias(readModels[0]!.projection.name));
  const s = await client.indices.getSettings({ index: index!, include_defaults: true });
  const v = Object.values(s)[0];
  const interval = v?.settings?.index?.refresh_interval ?? v?.defaults?.index?.refresh_interval;
  return `${String(interval ?? 'unknown')} (index setting); the projector does not refresh, a waiting read does`;
}

/**
 * R4: the live projector (Projector + ProjectionEngine, every read model of the query
 * service) draining a pre-filled queue of hotel events until the last one is applied and
 * searchable, against the Elasticsearch bulk helper indexing the final documents it produced
 * into fresh indices. Both as events per second of the same history.
 */
export const r4: Benchmark = {
  name: 'R4 projector',
  rows: [{ id: 'R4', unit: 'events/s', target: 'ratio >= 0.8' }],
  plannedMs: (quick) => (quick ? 25_000 : 40_000),
  async run(ctx: BenchContext): Promise<ResultRow[]> {
    const t = r4Timing(ctx.quick);
    const logger = pino({ level: 'error' });
    const es = await createTestIndexPrefix('bench r4');
    ctx.defer(() => es.drop());
    const vhost = await createTestVhost('bench r4');
    ctx.defer(() => vhost.drop());
    const conn = await connectAmqp({
      url: vhost.url,
      name: 'bench-projector',
      logger,
      eventsExchange: EXCHANGE,
    });
    ctx.defer(() => conn.close());
    await conn.waitForConnect();
    const raw = await connect(vhost.url, { noDelay: true });
    ctx.defer(() => raw.close());
    const pub = await raw.createConfirmChannel();
    const engine = new ProjectionEngine({ client: es.client, logger });

    let latest = 0; // the last round ours finished: what a baseline run before ours replays
    const ours = async (r: number): Promise<LoopResult> => {
      const names = new IndexNames(`${es.prefix}-p${r}`);
      await ensureReadModelIndices(es.client, names, readModels);
      if (r === 0) ctx.durability.refresh_interval = await refreshInterval(es.client, names);
      // One partition: this row measures one projector on one queue (the scale row varies it).
      const queues = { name: `${names.prefix}.query-projector`, partitions: 1 };
      await declarePartitionedQueues(pub, {
        ...queues,
        eventsExchange: EXCHANGE,
        deliveryLimit: 20,
      });
      const events = hotelEvents(t.events, `r${r}`);
      for (const e of events) {
        // The message the relay would publish for it (the contract of @cqrs/core).
        const m = toOutboxMessage(e);
        pub.publish(EXCHANGE, m.routingKey, Buffer.from(m.payload), {
          ...eventMessageProperties({ ...e, occurredAtMs: Date.parse(e.occurredAt) }),
          headers: m.headers,
        });
      }
      await pub.waitForConfirms();
      const last = events.at(-1)!.position;
      // The query service's settings: batches of 1000, prefetch 2000, batch delay 5 ms.
      const projector = new Projector({
        subscription: new AmqpEventSubscription({
          connection: conn,
          logger,
          queues,
          eventsExchange: EXCHANGE,
        }),
        logger,
        engine,
        targets: readModels.map((model) => ({ model, index: names.alias(model.projection.name) })),
        prefetch: PREFETCH,
        maxBatch: MAX_BATCH,
        maxDelayMs: 5,
        refresh: () => engine.refresh(readModels.map((m) => names.alias(m.projection.name))),
      });
      const started = performance.now();
      await projector.start();
      try {
        // Deliveries arrive in order and batches are written one after another, so the
        // last position applied means every event before it is applied too.
        await waitUntil(
          'projector caught up',
          () => {
            ctx.progress.tick(Number(projector.checkpoint));
            return projector.checkpoint === last;
          },
          300_000,
          5,
        );
        // Searchable, as the baseline's final refresh makes its documents.
        await engine.refresh(readModels.map((m) => names.alias(m.projection.name)));
      } finally {
        await projector.stop();
      }
      const elapsedMs = performance.now() - started;
      latest = r;
      return { ops: events.length, elapsedMs, latencies: new Latencies() };
    };
    const baseline = async (r: number): Promise<LoopResult> => {
      const sets = await finalDocuments(es.client, new IndexNames(`${es.prefix}-p${latest}`));
      const elapsedMs = await bulkBaseline(es.client, new IndexNames(`${es.prefix}-b${r}`), sets);
      return { ops: t.events, elapsedMs, latencies: new Latencies() };
    };
    const totals = await abRounds({
      label: `${t.events} events`,
      warmupPairs: t.warmupPairs,
      pairs: t.pairs,
      progress: ctx.progress,
      ours,
      baseline,
    });
    return [
      throughputRow('R4', 'events/s', 0.8, totals, {
        eventsPerRound: t.events,
        readModels: readModels.map((m) => m.projection.name),
        prefetch: PREFETCH,
        maxBatch: MAX_BATCH,
        baseline: 'helpers.bulk of the final documents into fresh indices, refresh at the end',
      }),
    ];
  },
};

/**
 * Rebuild: the Rebuilder replaying the event store into fresh indices, every read model in
 * one pass (`startMany`), against the bulk helper writing the same final documents. Events
 * per second of the stored history.
 */
export const rebuild: Benchmark = {
  name: 'rebuild',
  rows: [{ id: 'rebuild', unit: 'events/s', target: 'ratio >= 0.8' }],
  plannedMs: (quick) => (quick ? 20_000 : 35_000),
  async run(ctx: BenchContext): Promise<ResultRow[]> {
    const t = rebuildTiming(ctx.quick);
    const logger = pino({ level: 'error' });
    const db = await benchDatabase(ctx, 'rebuild');
    const es = await createTestIndexPrefix('bench rebuild');
    ctx.defer(() => es.drop());
    ctx.progress.phase(`seeding ${t.events} events`);
    const conn = await createConnection(mysqlConnectionOptions(db.url));
    try {
      await insertEvents(conn, hotelEvents(t.events, 'rb'));
    } finally {
      await conn.end();
    }
    // The query service's rebuild source: its own small pool on the event store.
    const knex = createKnex(db.url, { poolMax: 2 });
    ctx.defer(() => knex.destroy());
    const engine = new ProjectionEngine({ client: es.client, logger });
    const names = new IndexNames(`${es.prefix}-live`);
    await ensureReadModelIndices(es.client, names, readModels);
    const rebuilder = new Rebuilder({
      client: es.client,
      logger,
      engine,
      names,
      source: { readAll: (o) => readAll(knex, o), headPosition: () => headPosition(knex) },
      dropOldAfterMs: 0,
    });
    const ours = async (): Promise<LoopResult> => {
      const started = performance.now();
      const { done } = rebuilder.startMany(readModels);
      const ticker = setInterval(
        () => ctx.progress.tick(rebuilder.progress(readModels[0]!.projection.name)?.processed ?? 0),
        250,
      );
      const results = await done.finally(() => clearInterval(ticker));
      for (const result of results) {
        if (result.state !== 'done') throw new Error(`rebuild of ${result.name}: ${result.error}`);
      }
      return { ops: t.events, elapsedMs: performance.now() - started, latencies: new Latencies() };
    };
    const baseline = async (r: number): Promise<LoopResult> => {
      const sets = await finalDocuments(es.client, names);
      const elapsedMs = await bulkBaseline(
        es.client,
        new IndexNames(`${es.prefix}-b${r}`),
        sets,
        true,
      );
      return { ops: t.events, elapsedMs, latencies: new Latencies() };
    };
    const totals = await abRounds({
      label: `${t.events} events`,
      warmupPairs: t.warmupPairs,
      pairs: t.pairs,
      progress: ctx.progress,
      ours,
      baseline,
    });
    return [
      throughputRow('rebuild', 'events/s', 0.8, totals, {
        events: t.events,
        readModels: readModels.map((m) => m.projection.name),
        pageSize: 5000,
        pass: 'one pass over the event store for all read models',
        baseline:
          'helpers.bulk of the rebuilt documents into fresh indices it creates (timed, as the rebuild creates its own), refresh at the end',
      }),
    ];
  },
};
