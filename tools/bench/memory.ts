import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import {
  benchDatabase,
  mysqlConnectionOptions,
  type Benchmark,
  type BenchContext,
} from './context';
import { round, type ResultRow } from './harness';
import { streamOf } from './memory-streams';
import { profileFlags } from './processes';

/** The target's population. */
const TARGET_ACTORS = 100_000;
/**
 * Loading an actor costs a stream read (~650/s on the loaded 2-core machine), so the quick
 * run loads 20k and extrapolates linearly to 100k (marked in the row's note); the full run
 * loads all 100k. BENCH_MEMORY_ACTORS overrides both.
 */
const actorsFor = (quick: boolean) =>
  Number(process.env.BENCH_MEMORY_ACTORS ?? (quick ? 20_000 : TARGET_ACTORS));
const LIMIT_MB = 400;
const MB = 2 ** 20;

/** Writes the streams straight into `events` with multi-row INSERTs (seeding is not measured). */
async function seed(url: string, count: number, onProgress: (n: number) => void): Promise<void> {
  const conn = await createConnection(mysqlConnectionOptions(url));
  try {
    const at = new Date().toISOString().replace('T', ' ').replace('Z', '');
    const metadata = JSON.stringify({ actor: 'bench' });
    for (let from = 0; from < count; from += 2000) {
      const rows: unknown[][] = [];
      for (let i = from; i < Math.min(count, from + 2000); i++) {
        const s = streamOf(i);
        s.events.forEach((e, v) =>
          rows.push([
            randomUUID(),
            s.type,
            s.id,
            v + 1,
            e.type,
            1,
            JSON.stringify(e.data),
            metadata,
            at,
          ]),
        );
      }
      await conn.query(
        `INSERT INTO events
           (event_id, stream_type, stream_id, version, event_type, schema_version, data, metadata, occurred_at)
         VALUES ?`,
        [rows],
      );
      onProgress(Math.min(count, from + 2000));
    }
  } finally {
    await conn.end();
  }
}

interface ChildReport {
  readonly kind: 'progress' | 'done';
  readonly loaded: number;
  readonly idle?: NodeJS.MemoryUsage;
  readonly loadedMemory?: NodeJS.MemoryUsage;
  readonly settledMemory?: NodeJS.MemoryUsage;
  readonly liveActors?: number;
  readonly loadSeconds?: number;
}

function measureInChild(url: string, actors: number, ctx: BenchContext): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, 'memory-child.ts'), [], {
      execArgv: [...profileFlags(), '--expose-gc', '--import', 'tsx'],
      env: { ...process.env, MYSQL_URL: url, ACTORS: String(actors) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let done: ChildReport | undefined;
    const killer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('message', (m: ChildReport) => {
      if (m.kind === 'progress') ctx.progress.tick(m.loaded);
      else done = m;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(killer);
      if (done) resolve(done);
      else reject(new Error(`memory child exited with ${code} before reporting`));
    });
  });
}

/**
 * RSS of the command side holding 100k live actors, measured in a child process of its own
 * (so the bench's other allocations do not count): customers, rooms and reservations loaded
 * from the event store into the aggregate runtime, then a full GC.
 */
export const memory: Benchmark = {
  name: 'memory',
  rows: [{ id: 'memory', unit: 'MB RSS', target: `RSS <= ${LIMIT_MB} MB` }],
  plannedMs: (quick) => (quick ? 40_000 : 180_000),
  async run(ctx: BenchContext): Promise<ResultRow[]> {
    const actors = actorsFor(ctx.quick);
    const db = await benchDatabase(ctx, 'memory');
    ctx.progress.phase(`seeding ${actors} streams`);
    await seed(db.url, actors, (n) => ctx.progress.tick(n));
    ctx.progress.phase(`child process loading ${actors} actors`);
    const r = await measureInChild(db.url, actors, ctx);
    const idleRss = r.idle!.rss / MB;
    // The figure is the settled one (5 s after loading, full GC): the loading burst's
    // garbage inflates RSS right after it, and a service holding the actors sits at the former.
    const loadedRss = r.settledMemory!.rss / MB;
    const extrapolated = actors < TARGET_ACTORS;
    const rss = extrapolated
      ? idleRss + ((loadedRss - idleRss) * TARGET_ACTORS) / actors
      : loadedRss;
    return [
      {
        id: 'memory',
        ours: round(rss, 1),
        baseline: null,
        unit: 'MB RSS',
        ratio: null,
        target: `RSS <= ${LIMIT_MB} MB`,
        met: r.liveActors! >= actors && rss <= LIMIT_MB,
        p50: null,
        p95: null,
        p99: null,
        ...(extrapolated
          ? {
              note: `extrapolated to ${TARGET_ACTORS} from ${actors} live actors (${round(loadedRss, 1)} MB measured); the full run measures ${TARGET_ACTORS}`,
            }
          : {}),
        details: {
          liveActors: r.liveActors,
          measuredRssMb: round(loadedRss, 1),
          idleRssMb: round(r.idle!.rss / MB, 1),
          rssRightAfterLoadingMb: round(r.loadedMemory!.rss / MB, 1),
          heapUsedMb: round(r.settledMemory!.heapUsed / MB, 1),
          heapTotalMb: round(r.settledMemory!.heapTotal / MB, 1),
          externalMb: round(r.settledMemory!.external / MB, 1),
          arrayBuffersMb: round(r.settledMemory!.arrayBuffers / MB, 1),
          idleHeapUsedMb: round(r.idle!.heapUsed / MB, 1),
          bytesPerActor: Math.round((r.settledMemory!.heapUsed - r.idle!.heapUsed) / actors),
          rssBytesPerActor: Math.round(((loadedRss - idleRss) * MB) / actors),
          loadSeconds: round(r.loadSeconds!, 1),
          mix: '40% customers, 20% rooms, 40% reservations (2 events)',
        },
      },
    ];
  },
};
