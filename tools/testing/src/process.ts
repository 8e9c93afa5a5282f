import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';
import { waitUntil } from './wait';

const ROOT = path.resolve(__dirname, '../../..');

/** A port nobody listens on right now (never the defaults 3000-3002 / 3100+). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<number | null>;
  /** The last 20 kB of its stdout and stderr. */
  output(): string;
}

/**
 * Starts an app's `main.ts` (through tsx) on a free port and waits until `GET /health`
 * answers 200. `portVariable` names the environment variable the app reads its port from.
 */
export async function startService(
  main: string,
  portVariable: string,
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, [portVariable]: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    `${main} on ${url} to be healthy`,
    async () => {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${out}`);
      return (await fetch(`${url}/health`)).status === 200;
    },
    // tsx compiles on start: slow on a loaded machine (CI shares its cores).
    60_000,
    100,
  );
  return { child, url, exited, output: () => out };
}
