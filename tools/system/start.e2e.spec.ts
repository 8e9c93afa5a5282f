import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  createTestDatabase,
  createTestIndexPrefix,
  createTestVhost,
  waitUntil,
  type TestDatabase,
  type TestIndexPrefix,
  type TestVhost,
} from '@cqrs/testing';

// The README's first command, as a user runs it: `npm start` brings the whole system up; a
// command's consistency token makes the query side show it; one trace id links the HTTP span
// to the projector's span; SIGTERM leaves no process behind.
const root = join(__dirname, '..', '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Every descendant of `pid` (from /proc), so we can check they are all gone afterwards. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      /* process ended while we looked */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm start (whole system)', () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  let es: TestIndexPrefix;
  let child: ChildProcess;
  let output = '';
  const ports = { command: 0, query: 0, relay: 0, console: 0 };

  beforeAll(async () => {
    [db, vhost, es] = await Promise.all([
      createTestDatabase('start'),
      createTestVhost('start'),
      createTestIndexPrefix('start'),
    ]);
    ports.command = await freePort();
    ports.query = await freePort();
    ports.relay = await freePort();
    ports.console = await freePort();
    child = spawn('npm', ['start'], {
      cwd: root,
      env: {
        ...process.env,
        MYSQL_URL: db.url,
        AMQP_URL: vhost.url,
        INDEX_PREFIX: es.prefix,
        COMMAND_PORT: String(ports.command),
        QUERY_PORT: String(ports.query),
        RELAY_PORT: String(ports.relay),
        CONSOLE_PORT: String(ports.console),
        OTEL_TRACES_EXPORTER: 'console',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await waitUntil(
      'npm start to report the system up',
      () => output.includes('The system is up') || undefined,
      150_000,
      200,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n--- output ---\n${output.slice(-4000)}`);
    });
  }, 180_000);

  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all([db.drop(), vhost.drop(), es.drop()]);
  });

  it('prints the URLs of both APIs, their docs and the console', () => {
    expect(output).toContain(`http://127.0.0.1:${ports.command}/docs`);
    expect(output).toContain(`http://127.0.0.1:${ports.query}/docs`);
    expect(output).toContain(`console          http://127.0.0.1:${ports.console}/`);
  });

  it('shows a command on the query side once its consistency token is presented, on one trace', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await fetch(`http://127.0.0.1:${ports.command}/commands/customer/c-start`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      },
      body: JSON.stringify({
        type: 'RegisterCustomer',
        data: { name: 'Grace Hopper', email: 'grace@example.com' },
      }),
    });
    expect(res.status).toBe(201);
    const { consistencyToken } = (await res.json()) as { consistencyToken: string };
    expect(consistencyToken).toBe('customer:c-start@1');

    const read = await fetch(`http://127.0.0.1:${ports.query}/customers/c-start`, {
      headers: { 'x-consistency-token': consistencyToken, 'x-consistency-timeout-ms': '20000' },
    });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({
      id: 'c-start',
      name: 'Grace Hopper',
      email: 'grace@example.com',
    });

    // The console exporter prints each app's spans: the projector's carries the caller's trace id.
    await waitUntil(
      'the projector span with the trace id',
      () =>
        output.split('\n').some((l) => l.startsWith('[query-service]') && l.includes(traceId)) ||
        undefined,
      10_000,
      100,
    );
  }, 60_000);

  it('stops every process it started on SIGTERM', async () => {
    const pids = descendants(child.pid!);
    expect(pids.length).toBeGreaterThanOrEqual(4);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await waitUntil(
      'every started process to be gone',
      () => pids.every((p) => !alive(p)) || undefined,
      20_000,
      100,
    );
  }, 60_000);
});
