import { AggregateRuntime } from '@cqrs/aggregates';
import { createKnex, MySqlEventStore } from '@cqrs/event-store';
import { hotelAggregates } from '@cqrs/hotel';
import { streamOf } from './memory-streams';

/**
 * The child process of the memory benchmark: the command side's composition (Knex pool,
 * MySqlEventStore, AggregateRuntime with the hotel aggregates), brought to `ACTORS` live
 * actors by loading seeded streams. Reports its memory to the parent over IPC.
 * Run with --expose-gc so the figures are taken after a full collection.
 */
interface Report {
  readonly kind: 'progress' | 'done';
  readonly loaded: number;
  readonly idle?: NodeJS.MemoryUsage;
  readonly loadedMemory?: NodeJS.MemoryUsage;
  /** After 5 s of idleness and another full GC: what a service holding the actors settles at. */
  readonly settledMemory?: NodeJS.MemoryUsage;
  readonly liveActors?: number;
  readonly loadSeconds?: number;
}

const send = (r: Report) => process.send?.(r);

function collect(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return process.memoryUsage();
}

async function main(): Promise<void> {
  const url = process.env.MYSQL_URL!;
  const actors = Number(process.env.ACTORS);
  const knex = createKnex(url, { poolMax: 10 });
  const store = new MySqlEventStore(knex);
  // The command service's runtime, with room for every actor (its default LRU bound is
  // 10 000) and no idle passivation during the measurement. snapshotEvery 0 only skips the
  // snapshot lookup while loading (no stream here is long enough to have one).
  const runtime = new AggregateRuntime({
    store,
    aggregates: hotelAggregates,
    cacheMaxSize: actors + 1000,
    idlePassivationMs: 0,
    snapshotEvery: 0,
  });
  await store.ping();
  const idle = collect();
  const started = performance.now();
  let next = 0;
  let loaded = 0;
  const ticker = setInterval(() => send({ kind: 'progress', loaded }), 500);
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let i = next++; i < actors; i = next++) {
        const s = streamOf(i);
        await runtime.load(s.type, s.id);
        loaded++;
      }
    }),
  );
  clearInterval(ticker);
  const loadSeconds = (performance.now() - started) / 1000;
  const loadedMemory = collect();
  await new Promise((r) => setTimeout(r, 5000));
  const settledMemory = collect();
  send({
    kind: 'done',
    loaded,
    idle,
    loadedMemory,
    settledMemory,
    liveActors: runtime.stats().liveActors,
    loadSeconds,
  });
  await runtime.close();
  await knex.destroy();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error((err as Error).stack ?? String(err));
    process.exit(1);
  },
);
