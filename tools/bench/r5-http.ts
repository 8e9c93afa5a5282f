import autocannon from 'autocannon';
import { benchDatabase, type Benchmark, type BenchContext } from './context';
import {
  plannedComparisonMs,
  round,
  SteadyWindow,
  throughputRow,
  timedAb,
  type LoopResult,
  type ResultRow,
} from './harness';
import { startApp, startBenchServer, type AppProcess } from './processes';
import { customerData, idSource, poolFor } from './r1-commands';

export const R5_LEVELS = [8, 32] as const;

/**
 * One autocannon round: keep-alive connections = concurrency, one request in flight each,
 * counted in a steady window like closedLoop's; autocannon is stopped when it closes.
 */
async function httpRound(
  baseUrl: string,
  concurrency: number,
  durationMs: number,
  nextId: () => string,
  onProgress: (n: number) => void,
): Promise<LoopResult> {
  const window = new SteadyWindow(concurrency, durationMs);
  let failed = 0;
  let firstFailure = '';
  let finish!: (r: autocannon.Result) => void;
  let fail!: (err: Error) => void;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const instance = autocannon(
    {
      url: baseUrl,
      connections: concurrency,
      pipelining: 1,
      // The window decides when to stop (at most 4 x durationMs); this is only a bound.
      duration: (5 * durationMs) / 1000,
      // autocannon looks at its stop flag once per sample.
      sampleInt: 50,
      requests: [
        {
          method: 'POST',
          path: '/commands/customer/x',
          headers: { 'content-type': 'application/json' },
          setupRequest: (req) => {
            const id = nextId();
            return {
              ...req,
              path: `/commands/customer/${id}`,
              body: JSON.stringify({ type: 'RegisterCustomer', data: customerData(id) }),
            };
          },
        },
      ],
    },
    (err, result) => (err ? fail(err as Error) : finish(result)),
  );
  instance.on('response', (_client, status, _bytes, responseTime) => {
    if (status === 201) window.complete(responseTime);
    else {
      failed++;
      firstFailure ||= `HTTP ${status}`;
    }
    if (!window.open) instance.stop();
  });
  const ticker = setInterval(() => onProgress(window.count), 250);
  const result = await done.finally(() => clearInterval(ticker));
  if (failed > 0 || result.errors > 0) {
    throw new Error(
      `R5: ${failed} non-201 answers (${firstFailure}), ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
  return window.result();
}

/**
 * Commands over HTTP: the real command-service process against a bare `node:http` server
 * process (raw-http-server.ts) that parses the same JSON, sends the same SQL through mysql2
 * and answers the same status and body - same pool size and connection options, both driven
 * by the same autocannon settings from the bench process. The load generator's CPU thus
 * weighs on both sides alike.
 */
export const r5: Benchmark = {
  name: 'R5 HTTP commands vs a node:http server',
  rows: R5_LEVELS.map((c) => ({ id: `R5@c${c}`, unit: 'commands/s', target: 'ratio >= 0.85' })),
  plannedMs: (quick) => R5_LEVELS.length * (plannedComparisonMs(quick) + 8000),
  async run(ctx: BenchContext): Promise<ResultRow[]> {
    const db = await benchDatabase(ctx, 'r5');
    const next = idSource(`r5${Date.now().toString(36)}`);
    const rows: ResultRow[] = [];
    for (const concurrency of R5_LEVELS) {
      const pool = poolFor(concurrency);
      const env = { MYSQL_URL: db.url, MYSQL_POOL_MAX: String(pool) };
      ctx.progress.phase(`c=${concurrency} starting command-service and the raw server`);
      const app = await startApp('command-service', env, 'COMMAND_PORT');
      const raw = await startBenchServer('raw-http-server', env, 'RAW_PORT').catch(
        async (err: unknown) => {
          await app.stop();
          throw err;
        },
      );
      try {
        // Each server's CPU per command over every round (warm-up included).
        const cpu = new Map<AppProcess, { ms: number; ops: number }>();
        const roundOn = (server: AppProcess, side: string) => async (ms: number) => {
          const before = server.cpuMs();
          const res = await httpRound(
            server.baseUrl,
            concurrency,
            ms,
            () => next(side),
            (n) => ctx.progress.tick(n),
          );
          const used = cpu.get(server) ?? { ms: 0, ops: 0 };
          cpu.set(server, { ms: used.ms + server.cpuMs() - before, ops: used.ops + res.ops });
          return res;
        };
        const cpuPerCommand = (server: AppProcess) => {
          const used = cpu.get(server);
          return used && used.ops > 0 ? round(used.ms / used.ops, 3) : null;
        };
        const totals = await timedAb({
          label: `c=${concurrency}`,
          quick: ctx.quick,
          progress: ctx.progress,
          ours: roundOn(app, 'h'),
          baseline: roundOn(raw, 'r'),
        });
        rows.push(
          throughputRow(`R5@c${concurrency}`, 'commands/s', 0.85, totals, {
            concurrency,
            pool,
            client: 'autocannon 8 (keep-alive), in the bench process, for both sides',
            serverCpuMsPerCommand: cpuPerCommand(app),
            baselineCpuMsPerCommand: cpuPerCommand(raw),
            serverRssMb: Math.round(app.rssMb()),
            baselineRssMb: Math.round(raw.rssMb()),
          }),
        );
      } finally {
        await raw.stop();
        await app.stop();
      }
    }
    return rows;
  },
};
