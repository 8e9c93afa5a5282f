import { createTestDatabase, waitUntil, type TestDatabase } from '@cqrs/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';

/**
 * command-service as a process: migrates on start, stops gracefully on SIGTERM, and loses
 * nothing acknowledged when killed with SIGKILL under load.
 */
const ROOT = path.resolve(__dirname, '../../..');
const MAIN = 'apps/command-service/src/main.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<number | null>;
  output(): string;
}

async function start(mysqlUrl: string, env: Record<string, string> = {}): Promise<Running> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: {
      ...process.env,
      MYSQL_URL: mysqlUrl,
      COMMAND_PORT: String(port),
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    `command-service on ${url} to be healthy`,
    async () => {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${out}`);
      return (await fetch(`${url}/health`)).status === 200;
    },
    90_000,
    100,
  );
  return { child, url, exited, output: () => out };
}

const room = (number: string) => ({
  hotel: 'Seaside',
  city: 'Nice',
  number,
  roomType: 'single',
  capacity: 1,
  ratePerNight: 9_000,
});

async function command(
  url: string,
  id: string,
  body: unknown,
  idempotencyKey: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/commands/room/${id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('command-service process', () => {
  let db: TestDatabase;
  const running: Running[] = [];
  const launch = async (env?: Record<string, string>) => {
    const r = await start(db.url, env);
    running.push(r);
    return r;
  };

  beforeAll(async () => {
    db = await createTestDatabase('cs_process');
  });
  afterEach(async () => {
    // A failed test must not leave its blocking transaction or a live process behind.
    for (const r of running) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  });
  afterAll(async () => {
    for (const r of running) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    await Promise.all(running.map((r) => r.exited));
    await db.drop();
  });

  it('on SIGTERM stops accepting, finishes the commands in flight, then exits 0', async () => {
    const service = await launch();
    // Hold the streams' first versions in an open transaction: the commands are then in
    // flight (claimed, waiting on their insert) when the signal arrives.
    const blocker = await db.knex.transaction();
    for (let i = 0; i < 4; i++) {
      await blocker.raw(
        `INSERT INTO events (event_id, stream_type, stream_id, version, event_type, data, metadata, occurred_at)
         VALUES (UUID(), 'room', ?, 1, 'RoomRegistered', '{}', '{}', NOW(6))`,
        [`term-${i}`],
      );
    }
    try {
      const inFlight = Array.from({ length: 4 }, (_, i) =>
        command(
          service.url,
          `term-${i}`,
          { type: 'RegisterRoom', data: room(`${i}`) },
          `term-${i}`,
        ),
      );
      await waitUntil('the commands to be in flight', async () => {
        const [rows] = (await db.knex.raw(
          "SELECT COUNT(*) AS n FROM idempotency_keys WHERE idempotency_key LIKE 'term-%' AND status = 'pending'",
        )) as [{ n: number }[]];
        return Number(rows[0]!.n) === 4;
      });
      service.child.kill('SIGTERM');
      await waitUntil('the server to stop accepting connections', async () => {
        try {
          await fetch(`${service.url}/health`);
          return false;
        } catch {
          return true;
        }
      });
      expect(service.child.exitCode).toBeNull(); // still finishing what is in flight
      await blocker.rollback();
      const responses = await Promise.all(inFlight);
      expect(responses.map((r) => r.status)).toEqual([201, 201, 201, 201]);
      const code = await service.exited;
      expect({ code, log: code === 0 ? '' : service.output() }).toEqual({ code: 0, log: '' });
    } finally {
      if (!blocker.isCompleted()) await blocker.rollback();
    }
  }, 180_000);

  it("frees a dead holder's Idempotency-Key one lease after kill -9; a live holder keeps it", async () => {
    const env = { IDEMPOTENCY_LEASE_MS: '1000' };
    const [holder, other] = await Promise.all([launch(env), launch(env)]);
    const blocker = await db.knex.transaction();
    await blocker.raw(
      `INSERT INTO events (event_id, stream_type, stream_id, version, event_type, data, metadata, occurred_at)
       VALUES (UUID(), 'room', 'lease-1', 1, 'RoomRegistered', '{}', '{}', NOW(6))`,
    );
    const body = { type: 'RegisterRoom', data: room('L1') };
    try {
      const cut = command(holder.url, 'lease-1', body, 'lease-key').then(
        () => 'answered',
        () => 'cut off',
      );
      await waitUntil('the command to hold its key', async () => {
        const [rows] = (await db.knex.raw(
          "SELECT COUNT(*) AS n FROM idempotency_keys WHERE idempotency_key = 'lease-key' AND status = 'pending'",
        )) as [{ n: number }[]];
        return Number(rows[0]!.n) === 1;
      });
      // Alive and working for three leases: the key stays in flight (renewed), never taken.
      const until = Date.now() + 3000;
      while (Date.now() < until) {
        expect((await command(other.url, 'lease-1', body, 'lease-key')).status).toBe(409);
        await new Promise((r) => setTimeout(r, 200));
      }
      holder.child.kill('SIGKILL');
      await holder.exited;
      await blocker.rollback();
      expect(await cut).toBe('cut off');
      const killedAt = Date.now();
      const retry = await waitUntil(
        'the retry to get past 409',
        async () => {
          const r = await command(other.url, 'lease-1', body, 'lease-key');
          return r.status === 409 ? undefined : r;
        },
        10_000,
        50,
      );
      const waitedMs = Date.now() - killedAt;
      expect(retry.status).toBe(201);
      // One lease (1 s) plus the renewal period and polling, far below the old fixed 30 s.
      expect(waitedMs).toBeLessThan(2500);
      const [rows] = (await db.knex.raw(
        "SELECT COUNT(*) AS n FROM events WHERE stream_id = 'lease-1'",
      )) as [{ n: number }[]];
      expect(Number(rows[0]!.n)).toBe(1);
    } finally {
      if (!blocker.isCompleted()) await blocker.rollback();
    }
  }, 180_000);

  it('after kill -9 mid-load and a restart, loses no acknowledged command and leaves nothing half-written', async () => {
    const first = await launch({ IDEMPOTENCY_LEASE_MS: '1500' });
    interface Sent {
      readonly key: string;
      readonly id: string;
      readonly body: { type: string; data: Record<string, unknown> };
    }
    const acked: Array<Sent & { version: number; position: string }> = [];
    const unacked: Sent[] = [];
    let killed = false;

    const worker = async (w: number) => {
      const id = `load-${w}`;
      for (let seq = 0; !killed; seq++) {
        const sent: Sent = {
          key: `load-${w}-${seq}`,
          id,
          body:
            seq === 0
              ? { type: 'RegisterRoom', data: room(`${w}`) }
              : { type: 'ChangeRoomRate', data: { ratePerNight: 10_000 + seq } },
        };
        try {
          const res = await command(first.url, sent.id, sent.body, sent.key);
          if (res.status !== 200 && res.status !== 201)
            throw new Error(`unexpected ${res.status}: ${JSON.stringify(res.body)}`);
          acked.push({
            ...sent,
            version: res.body.version as number,
            position: res.body.position as string,
          });
        } catch (err) {
          if (!killed) throw err;
          unacked.push(sent);
          return;
        }
      }
    };
    const workers = Array.from({ length: 6 }, (_, w) => worker(w));
    await waitUntil('some load to be acknowledged', () => acked.length >= 120, 30_000);
    killed = true;
    first.child.kill('SIGKILL');
    await Promise.all(workers);
    expect(await first.exited).toBeNull();

    const second = await launch({ IDEMPOTENCY_LEASE_MS: '1500' });

    // Every acknowledged command is there, exactly as it was answered.
    const [events] = (await db.knex.raw(
      "SELECT stream_id, version, event_type, position FROM events WHERE stream_id LIKE 'load-%'",
    )) as [{ stream_id: string; version: number; event_type: string; position: string | number }[]];
    const stored = new Map(events.map((e) => [`${e.stream_id}@${e.version}`, e]));
    for (const a of acked) {
      const e = stored.get(`${a.id}@${a.version}`);
      expect(e).toBeDefined();
      expect(e!.event_type).toBe(
        a.body.type === 'RegisterRoom' ? 'RoomRegistered' : 'RoomRateChanged',
      );
      expect(String(e!.position)).toBe(a.position);
    }

    // Nothing half-written: no event without its outbox row, no outbox row without its
    // event, no stream with a gap.
    const count = async (sql: string) => {
      const [rows] = (await db.knex.raw(sql)) as [{ n: number | string }[]];
      return Number(rows[0]!.n);
    };
    expect({
      eventsWithoutOutbox: await count(
        'SELECT COUNT(*) AS n FROM events e LEFT JOIN outbox o ON o.event_id = e.event_id WHERE o.id IS NULL',
      ),
      outboxWithoutEvent: await count(
        'SELECT COUNT(*) AS n FROM outbox o LEFT JOIN events e ON e.event_id = o.event_id WHERE e.position IS NULL',
      ),
      streamsWithGaps: await count(
        `SELECT COUNT(*) AS n FROM (SELECT stream_id FROM events GROUP BY stream_type, stream_id
         HAVING MIN(version) <> 1 OR MAX(version) <> COUNT(*)) s`,
      ),
    }).toEqual({ eventsWithoutOutbox: 0, outboxWithoutEvent: 0, streamsWithGaps: 0 });

    // The commands cut off by the kill, sent again with their keys: each lands exactly once
    // (replayed if it had committed). A claim of the dead process frees itself after its lease.
    for (const u of unacked) {
      const res = await waitUntil(
        `a retry of ${u.key}`,
        async () => {
          const r = await command(second.url, u.id, u.body, u.key);
          return r.status === 409 ? undefined : r;
        },
        10_000,
        100,
      );
      expect([200, 201]).toContain(res.status);
    }
    const [rates] = (await db.knex.raw(
      `SELECT stream_id, JSON_EXTRACT(data, '$.ratePerNight') AS rate, COUNT(*) AS n FROM events
       WHERE stream_id LIKE 'load-%' AND event_type = 'RoomRateChanged'
       GROUP BY stream_id, JSON_EXTRACT(data, '$.ratePerNight') HAVING COUNT(*) > 1`,
    )) as [unknown[]];
    expect(rates).toEqual([]);
    const total = acked.length + unacked.length;
    expect(await count("SELECT COUNT(*) AS n FROM events WHERE stream_id LIKE 'load-%'")).toBe(
      total,
    );
  }, 180_000);
});
