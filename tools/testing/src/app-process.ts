import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { waitUntil } from './wait';

const ROOT = join(__dirname, '..', '..', '..');

export type AppName = 'command-service' | 'outbox-relay' | 'query-service';
const PORT_VAR: Record<AppName, string> = {
  'command-service': 'COMMAND_PORT',
  'query-service': 'QUERY_PORT',
  'outbox-relay': 'RELAY_PORT',
};

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * One of our apps as a real process (`apps/<name>/src/main.ts` under tsx), on a port of its
 * own that it keeps across restarts - what the fuzz and chaos suites drive and kill.
 */
export class AppProcess {
  private child: ChildProcess | undefined;
  private exit: Promise<number | null> | undefined;
  private tail = '';
  /** Exits nobody asked for (a crash), with the last lines of output. */
  readonly crashes: string[] = [];
  private expectingExit = false;

  private constructor(
    readonly name: AppName,
    private portInUse: number,
    private readonly env: Record<string, string>,
  ) {}

  static async start(name: AppName, env: Record<string, string>): Promise<AppProcess> {
    const app = new AppProcess(name, await freePort(), env);
    await app.start();
    return app;
  }

  get port(): number {
    return this.portInUse;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && !this.child.signalCode;
  }

  output(): string {
    return this.tail;
  }

  /**
   * Starts the process (again) and waits until its /health answers 200. A restart that fails
   * (its port taken meanwhile by another process on a shared machine, a slow start) is tried
   * again on a fresh port, three times at most.
   */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const crashesBefore = this.crashes.length;
      try {
        await this.startOnce();
        return;
      } catch (err) {
        await this.kill9();
        this.crashes.length = crashesBefore; // a failed start is retried, not a crash
        if (attempt >= 3) throw err;
        this.portInUse = await freePort();
      }
    }
  }

  private async startOnce(): Promise<void> {
    this.expectingExit = false;
    const child = spawn(process.execPath, ['--import', 'tsx', `apps/${this.name}/src/main.ts`], {
      cwd: ROOT,
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        ...this.env,
        [PORT_VAR[this.name]]: String(this.port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer) => (this.tail = (this.tail + d.toString()).slice(-8000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.child = child;
    this.exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (!this.expectingExit) {
          this.crashes.push(`${this.name} exited (${code ?? signal}):\n${this.tail.slice(-3000)}`);
        }
        resolve(code);
      }),
    );
    await waitUntil(
      `${this.name} on ${this.url} to be healthy`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${this.name} exited: ${this.tail}`);
        const res = await fetch(`${this.url}/health`).catch(() => undefined);
        return res?.status === 200;
      },
      90_000,
      100,
    );
  }

  /** kill -9: no shutdown hook runs, connections drop as in a crash. */
  async kill9(): Promise<void> {
    if (!this.alive) return;
    this.expectingExit = true;
    this.child!.kill('SIGKILL');
    await this.exit;
  }

  /** SIGTERM (graceful), SIGKILL after 15 s. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.expectingExit = true;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 15_000);
    await this.exit;
    clearTimeout(timer);
  }
}
