import { connectAmqp, type AmqpConnection } from '@cqrs/amqp';
import { createKnex, migrate, MySqlEventStore } from '@cqrs/event-store';
import { interleavedEvents, recordEvents, seedOutbox, type Recorder } from '@cqrs/outbox/testing';
import {
  createTestDatabase,
  createTestVhost,
  waitUntil,
  type TestDatabase,
  type TestVhost,
} from '@cqrs/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import type { Knex } from 'knex';
import pino from 'pino';

// Jest ignores `testTimeout` inside `projects`; processes take a few seconds to start.
jest.setTimeout(60_000);

const logger = pino({ level: 'silent' });
const EXCHANGE = 'events';
const root = resolve(__dirname, '../../..');

interface RelayProcess {
  readonly port: number;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  metric(name: string): Promise<number | undefined>;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePort(port));
    });
  });
}

describe('outbox-relay processes (kill -9, standby takeover)', () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  let knex: Knex;
  let conn: AmqpConnection;
  let recorder: Recorder;
  const processes: RelayProcess[] = [];

  /** Starts `apps/outbox-relay/src/main.ts` in a process group of its own. */
  async function startRelay(env: Record<string, string> = {}): Promise<RelayProcess> {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'apps/outbox-relay/src/main.ts'], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        MYSQL_URL: db.url,
        AMQP_URL: vhost.url,
        EVENTS_EXCHANGE: EXCHANGE,
        RELAY_PORT: String(port),
        LOG_LEVEL: 'error',
        ...env,
      },
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const relay: RelayProcess = {
      port,
      child,
      exited,
      async metric(name) {
        const res = await fetch(`http://127.0.0.1:${port}/metrics`);
        const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(await res.text());
        return m ? Number(m[1]) : undefined;
      },
    };
    processes.push(relay);
    await waitUntil(
      `relay on :${port} healthy`,
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/health`);
        return res.status === 200;
      },
      30_000,
      100,
    );
    return relay;
  }

  const kill9 = async (r: RelayProcess) => {
    process.kill(-r.child.pid!, 'SIGKILL');
    await r.exited;
  };
  const isLeader = async (r: RelayProcess) => (await r.metric('outbox_relay_leader')) === 1;

  beforeAll(async () => {
    [db, vhost] = await Promise.all([
      createTestDatabase('relay_e2e'),
      createTestVhost('relay_e2e'),
    ]);
    knex = createKnex(db.url);
    await migrate(knex);
    conn = await connectAmqp({
      url: vhost.url,
      name: 'relay-e2e-recorder',
      logger,
      eventsExchange: EXCHANGE,
    });
    await conn.waitForConnect();
    recorder = await recordEvents(conn, EXCHANGE, 'recorder', logger);
    await waitUntil('recorder consuming', () => recorder.consumer.isConsuming);
  });
  afterAll(async () => {
    for (const p of processes) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        process.kill(-p.child.pid!, 'SIGKILL');
        await p.exited;
      }
    }
    await recorder?.stop();
    await conn?.close();
    await knex?.destroy();
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  /** Through the real append path: `perStream` commands on each of `streams` streams, interleaved. */
  async function appendInterleaved(prefix: string, streams: number, perStream: number) {
    const store = new MySqlEventStore(knex);
    const ids: string[] = [];
    for (let v = 1; v <= perStream; v++) {
      const results = await Promise.all(
        Array.from({ length: streams }, (_, s) =>
          store.appendToStream({
            streamType: 'room',
            streamId: `${prefix}${s}`,
            expectedVersion: v - 1,
            events: [{ type: 'RoomRateChanged', data: { ratePerNight: 100 + v } }],
            metadata: { correlationId: `${prefix}${s}-${v}` },
          }),
        ),
      );
      ids.push(...results.flatMap((r) => r.events.map((e) => e.eventId)));
    }
    return ids;
  }

  const expectInOrder = (prefix: string, perStream: number) => {
    const streams = [...recorder.firstArrivalVersions()].filter(([k]) =>
      k.startsWith(`room:${prefix}`),
    );
    expect(streams.length).toBeGreaterThan(0);
    for (const [, versions] of streams) {
      expect(versions).toEqual(Array.from({ length: perStream }, (_, i) => i + 1));
    }
  };

  it('loses nothing when the relay is killed with -9 mid-burst and started again', async () => {
    // Small batches and window: the burst lasts long enough to be cut in the middle.
    const slow = { RELAY_BATCH_SIZE: '50', RELAY_MAX_IN_FLIGHT: '16' };
    const first = await startRelay(slow);
    await waitUntil('first relay leads', () => isLeader(first));
    const ids = await seedOutbox(knex, interleavedEvents(50, 40, 'room', 'kill-'));
    await waitUntil(
      'burst under way',
      () => ids.slice(0, 200).some((id) => recorder.distinct.has(id)),
      20_000,
      5,
    );
    await kill9(first);
    expect(ids.every((id) => recorder.distinct.has(id))).toBe(false);

    await startRelay(slow);
    await waitUntil(
      'every event delivered',
      () => ids.every((id) => recorder.distinct.has(id)),
      30_000,
    );
    expectInOrder('kill-', 40);
    for (const m of recorder.messages) expect(m.messageId).toBe(m.body.eventId);
  });

  it('publishes from the leader only; when it dies the standby takes over', async () => {
    const a = processes.at(-1)!;
    const b = await startRelay();
    await waitUntil('exactly one leader', async () => (await isLeader(a)) !== (await isLeader(b)));
    const [leader, standby] = (await isLeader(a)) ? [a, b] : [b, a];

    const before = await appendInterleaved('ha1-', 10, 20);
    await waitUntil('delivered by the leader', () =>
      before.every((id) => recorder.distinct.has(id)),
    );
    expect(await standby.metric('outbox_relay_published_total')).toBe(0);
    expect(await isLeader(standby)).toBe(false);

    await kill9(leader);
    const after = await appendInterleaved('ha2-', 10, 20);
    await waitUntil('standby leads', () => isLeader(standby), 10_000);
    await waitUntil('delivered by the new leader', () =>
      after.every((id) => recorder.distinct.has(id)),
    );
    expectInOrder('ha2-', 20);
    // The counter follows the (background) marking of confirmed rows, a moment after delivery.
    await waitUntil(
      'the new leader to count what it published',
      async () => ((await standby.metric('outbox_relay_published_total')) ?? 0) >= after.length,
    );

    // SIGTERM: the relay finishes its pass, gives the lock up and exits 0.
    process.kill(standby.child.pid!, 'SIGTERM');
    expect(await standby.exited).toBe(0);
  });
  it('a poisoned row stalls the relay visibly; parking it lets the rest flow, re-queueing publishes it once', async () => {
    const admin = (method: string, path: string, body?: unknown, token = 'adm') =>
      fetch(`http://127.0.0.1:${relay.port}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    const before = await seedOutbox(knex, interleavedEvents(2, 2, 'room', 'pre-park-'));
    const [poison] = await seedOutbox(knex, interleavedEvents(1, 1, 'room', 'poison-'));
    const goodHeaders = (await knex('outbox').where({ event_id: poison }).first()).headers;
    await knex('outbox').where({ event_id: poison }).update({ headers: '{}' });
    const after = await seedOutbox(knex, interleavedEvents(2, 2, 'room', 'post-park-'));
    // Started only now: a relay already running could publish the row before it is spoiled.
    const relay = await startRelay({ ADMIN_TOKEN: 'adm' });

    // Stalled at the poisoned row, and it shows: nothing behind it goes out.
    await waitUntil('rows before it delivered', () =>
      before.every((id) => recorder.distinct.has(id)),
    );
    await waitUntil(
      'the head row counted as failing',
      async () => ((await relay.metric('outbox_head_attempts')) ?? 0) >= 1,
      40_000, // a busy machine slows the relay's backoff loop down
    );
    expect(after.some((id) => recorder.distinct.has(id))).toBe(false);
    const head = (await (await admin('GET', '/admin/outbox')).json()) as {
      head: { id: string; eventId: string; attempts: number }[];
    };
    expect(head.head[0]).toMatchObject({ eventId: poison, attempts: expect.any(Number) });
    const id = head.head[0]!.id;

    // Parking is an admin action.
    expect((await admin('POST', `/admin/outbox/${id}/park`, { reason: 'x' }, 'wrong')).status).toBe(
      401,
    );
    const parked = await admin('POST', `/admin/outbox/${id}/park`, { reason: 'headers lost' });
    expect(parked.status).toBe(200);
    await waitUntil('rows behind it delivered', () =>
      after.every((id) => recorder.distinct.has(id)),
    );
    expectInOrder('post-park-', 2);
    // The outbox gauges share one stats query per scrape, reused for 100 ms: wait for a fresh one.
    await waitUntil(
      'the parked row counted',
      async () => (await relay.metric('outbox_parked_rows')) === 1,
    );
    const list = (await (await admin('GET', '/admin/outbox/parked')).json()) as {
      parked: { id: string; reason: string }[];
    };
    expect(list.parked).toEqual([expect.objectContaining({ id, reason: 'headers lost' })]);

    // Repaired and re-queued under its own id: published exactly once, nothing lost.
    await knex('outbox_parked')
      .where({ id })
      .update({
        headers: typeof goodHeaders === 'string' ? goodHeaders : JSON.stringify(goodHeaders),
      });
    expect((await admin('POST', `/admin/outbox/parked/${id}/requeue`)).status).toBe(200);
    await waitUntil('the repaired row delivered', () => recorder.distinct.has(poison!));
    await waitUntil('drained', async () => (await relay.metric('outbox_backlog')) === 0);
    expect(recorder.messages.filter((m) => m.messageId === poison).length).toBe(1);
    await waitUntil(
      'no parked row left',
      async () => (await relay.metric('outbox_parked_rows')) === 0,
    );
    expect((await admin('POST', `/admin/outbox/parked/${id}/requeue`)).status).toBe(404);
  });
});
