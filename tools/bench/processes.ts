import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { waitUntil } from '@cqrs/testing';

const repoRoot = join(__dirname, '..', '..');
/** USER_HZ: /proc reports CPU times in these ticks (100 on every Linux we run on). */
const CLOCK_TICKS = 100;

/** `BENCH_CPU_PROF=1`: child processes write V8 CPU profiles to bench-results/profiles. */
export const profileFlags = (): string[] =>
  process.env.BENCH_CPU_PROF === '1'
    ? ['--cpu-prof', `--cpu-prof-dir=${join(repoRoot, 'bench-results', 'profiles')}`]
    : [];

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject()));
    });
  });
}

export interface AppProcess {
  readonly name: string;
  readonly pid: number;
  readonly baseUrl: string;
  /** Resident set size of the process, from /proc (MB). */
  rssMb(): number;
  /** CPU time the process has used so far, user + system (ms), from /proc. */
  cpuMs(): number;
  stop(): Promise<void>;
}

/**
 * Starts one of our apps (`apps/<name>/src/main.ts` under tsx, the way `nx serve` does) and
 * waits for its /health to answer 200. Its log goes to the bench's stderr only at warn+.
 */
export function startApp(
  name: 'command-service' | 'outbox-relay' | 'query-service',
  env: Record<string, string>,
  portVar: string,
): Promise<AppProcess> {
  return startProcess(name, join(repoRoot, 'apps', name, 'src', 'main.ts'), env, portVar);
}

/** Starts a bench server of ours (`tools/bench/<name>.ts`) the same way as an app. */
export function startBenchServer(
  name: string,
  env: Record<string, string>,
  portVar: string,
): Promise<AppProcess> {
  return startProcess(name, join(repoRoot, 'tools', 'bench', `${name}.ts`), env, portVar);
}

async function startProcess(
  name: string,
  script: string,
  env: Record<string, string>,
  portVar: string,
): Promise<AppProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [...profileFlags(), '--import', 'tsx', script],
    {
      cwd: repoRoot,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env, [portVar]: String(port) },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exited = code;
      resolve();
    }),
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exited !== undefined) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exit;
    clearTimeout(killer);
  };
  try {
    await waitUntil(
      `${name} /health`,
      async () => {
        if (exited !== undefined) throw new Error(`${name} exited with ${exited}`);
        const res = await fetch(`${baseUrl}/health`).catch(() => undefined);
        return res?.status === 200;
      },
      // Generous: under tsx on a loaded 2-core machine an app can take a minute to start.
      120_000,
      100,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    name,
    pid: child.pid!,
    baseUrl,
    rssMb() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
      return kb / 1024;
    },
    cpuMs() {
      // Fields 14 and 15 of /proc/<pid>/stat, after the parenthesised command name.
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    },
    stop,
  };
}
