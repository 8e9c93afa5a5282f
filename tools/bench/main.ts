import { readConfig } from '@cqrs/core';
import { stackDown, stackEnv, stackUp } from '@cqrs/stack';
import type { Benchmark, BenchContext } from './context';
import { describeDurability, describeMachine } from './environment';
import { unavailable, type ResultRow } from './harness';
import { freshness } from './freshness';
import { memory } from './memory';
import { peerEvtstore } from './peer-evtstore';
import { Progress, formatSeconds } from './progress';
import { r1 } from './r1-commands';
import { r3 } from './r3-relay';
import { r4, rebuild } from './r4-search';
import { r4Scale } from './r4-scale';
import { r5 } from './r5-http';
import { roomCalendar } from './room-calendar';
import { formatTable, writeReport } from './report';

/**
 * `npm run bench [-- --quick] [-- --only R1,peer]`: every benchmark against the local stack,
 * our path and its raw baseline alternating in rounds; prints a table and writes
 * bench-results/latest.json (+ a timestamped copy). See docs/performance.md.
 */
const benchmarks: readonly Benchmark[] = [
  r1,
  roomCalendar,
  r5,
  r3,
  r4,
  r4Scale,
  freshness,
  rebuild,
  peerEvtstore,
  memory,
];

interface Args {
  readonly quick: boolean;
  readonly only: readonly string[];
}

function parseArgs(argv: readonly string[]): Args {
  let quick = false;
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--only') only.push(...(argv[++i] ?? '').split(','));
    else if (a.startsWith('--only=')) only.push(...a.slice(7).split(','));
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm run bench -- [--quick] [--only <id-prefix>[,<id-prefix>...]]');
      console.log(
        `benchmarks: ${benchmarks.map((b) => b.rows.map((r) => r.id).join(' ')).join(' ')}`,
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (try --help)`);
  }
  return { quick, only: only.filter(Boolean).map((s) => s.toLowerCase()) };
}

const selected = (b: Benchmark, only: readonly string[]) =>
  only.length === 0 ||
  b.rows.some((r) => only.some((o) => r.id.toLowerCase().startsWith(o))) ||
  only.some((o) => b.name.toLowerCase().startsWith(o));

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const started = await stackUp(log);
  const env = readConfig(stackEnv, process.env);
  const plan = benchmarks.filter((b) => selected(b, args.only));
  const startedAt = new Date();
  const machine = describeMachine();
  const durability = await describeDurability(env);
  const plannedMs = plan.map((b) => b.plannedMs(args.quick));
  log(
    `bench: ${args.quick ? 'quick' : 'full'} run of ${plan.length} benchmarks, planned ~${formatSeconds(
      plannedMs.reduce((a, b) => a + b, 0) / 1000,
    )} on ${machine.cores} x ${machine.cpuModel} (load ${machine.loadAverageAtStart.join(' ')})`,
  );
  const progress = new Progress(
    plannedMs,
    plan.map((b) => b.name),
  );
  const cleanups: Array<() => Promise<unknown>> = [];
  const runCleanups = async () => {
    while (cleanups.length > 0) {
      const c = cleanups.pop()!;
      await c().catch((err: unknown) => log(`bench: cleanup failed: ${(err as Error).message}`));
    }
  };
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    progress.clear();
    log('bench: interrupted, cleaning up');
    void runCleanups().finally(() => process.exit(130));
  });

  const results: ResultRow[] = [];
  for (const [i, bench] of plan.entries()) {
    progress.startBenchmark(i);
    const ctx: BenchContext = {
      quick: args.quick,
      progress,
      env,
      durability,
      defer: (c) => void cleanups.push(c),
    };
    try {
      results.push(...(await bench.run(ctx)));
    } catch (err) {
      progress.clear();
      log(`bench: ${bench.name} failed: ${(err as Error).stack ?? String(err)}`);
      const why = `failed: ${(err as Error).message.split('\n')[0]}`;
      const have = new Set(results.map((r) => r.id));
      for (const r of bench.rows.filter((row) => !have.has(row.id)))
        results.push(unavailable(r.id, r.unit, r.target, why));
    } finally {
      await runCleanups();
    }
    if (interrupted) return;
  }
  progress.clear();

  const finishedAt = new Date();
  const report = {
    mode: args.quick ? ('quick' as const) : ('full' as const),
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSeconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
    machine,
    durability,
    results,
  };
  const paths = writeReport(report);
  console.log(formatTable(results));
  console.log(
    `\n${report.mode} run: ${formatSeconds(report.durationSeconds)}; results in ${paths.join(', ')}`,
  );
  if (started.length > 0 && process.env.STACK_KEEP !== '1')
    await stackDown(
      log,
      started.map((s) => s.service),
    );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
