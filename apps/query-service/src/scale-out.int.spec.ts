import { createEventBackends, waitUntil, type EventBackends } from '@cqrs/testing';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createQueryService, type QueryService } from './service';

jest.setTimeout(120_000);

const PARTITIONS = 4;

/**
 * Several query-service instances on one set of partitions (docs/scaling.md): the partitions
 * spread over the instances, move when one leaves or joins, per-stream order holds through
 * every hand-over, and joins converge whichever instance applies which stream.
 */
describe('query service scaled out (3 instances, 4 partitions)', () => {
  let backends: EventBackends;
  let es: EventBackends['es'];
  const dir = mkdtempSync(join(tmpdir(), 'scale-out-'));
  const running = new Set<QueryService>();
  let instances = 0;

  beforeAll(async () => {
    backends = await createEventBackends('scale');
    es = backends.es;
  });

  afterAll(async () => {
    for (const s of running) await s.close();
    await backends?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(): Promise<QueryService> {
    const service = await createQueryService(
      {
        ...backends.urls,
        adminToken: undefined,
        roles: { api: true, projector: true },
        prefetch: 100,
        batchDelayMs: 5,
        partitions: PARTITIONS,
        rebalanceEveryMs: 250,
        appliedLog: join(dir, `applied-${++instances}.jsonl`),
      },
      pino({ level: process.env.TEST_LOG || 'silent' }),
    );
    running.add(service);
    await waitUntil('the projector to consume', () => service.projector?.isConsuming);
    return service;
  }
  async function stop(service: QueryService): Promise<void> {
    running.delete(service);
    await service.close();
  }
  const active = (s: QueryService) => s.projector?.activePartitions ?? [];

  type Ev = {
    streamType: string;
    streamId: string;
    version: number;
    type: string;
    data: Record<string, unknown>;
  };
  let position = 0;
  /** Publishes events as the relay does (docs/api.md "Event messages"). */
  const publish = (events: readonly Ev[]) =>
    backends.publish(
      events.map((e) => ({
        eventId: randomUUID(),
        ...e,
        position: String(++position),
        schemaVersion: 1,
        occurredAt: new Date().toISOString(),
        metadata: { correlationId: 'scale' },
      })),
    );
  const rename = (id: string, version: number): Ev => ({
    streamType: 'customer',
    streamId: id,
    version,
    type: version === 1 ? 'CustomerRegistered' : 'CustomerRenamed',
    data:
      version === 1
        ? { name: `${id} v1`, email: `${id}@example.com` }
        : { name: `${id} v${version}` },
  });

  /** Every applied event of every instance, in time order (the applied logs). */
  function appliedInOrder(): Array<{ stream: string; version: number; redelivered: boolean }> {
    const batches: Array<{ at: number; events: Array<Record<string, unknown>> }> = [];
    for (let i = 1; i <= instances; i++) {
      let text = '';
      try {
        text = readFileSync(join(dir, `applied-${i}.jsonl`), 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n')) if (line) batches.push(JSON.parse(line));
    }
    return batches
      .sort((a, b) => a.at - b.at)
      .flatMap((b) =>
        b.events.map((e) => ({
          stream: `${String(e.streamType)}:${String(e.streamId)}`,
          version: Number(e.version),
          redelivered: e.redelivered === true,
        })),
      );
  }

  const customerDoc = async (id: string) => {
    const res = await es.client.get<{ name: string; version: number }>(
      { index: `${es.prefix}-customers`, id },
      { ignore: [404] },
    );
    return res.found ? res._source : undefined;
  };

  it("spreads the partitions, takes over a leaving instance's, and keeps every stream in order", async () => {
    const first = await start();
    const streams = Array.from({ length: 40 }, (_, i) => `c-${i}-${randomUUID().slice(0, 8)}`);
    let version = 0;
    let publishing = true;
    const traffic = (async () => {
      while (publishing) {
        version++;
        await publish(streams.map((id) => rename(id, version)));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      await waitUntil(
        'one instance to hold every partition',
        () => active(first).length === PARTITIONS,
      );
      const second = await start();
      const third = await start();
      const joined = Date.now();
      await waitUntil(
        'the partitions to spread over the three instances',
        // Share: ceil(4 / 3) = 2 at most each (2/2/0 or 2/1/1), every partition held.
        () =>
          [first, second, third].every((s) => active(s).length <= 2) &&
          [first, second, third].reduce((n, s) => n + active(s).length, 0) === PARTITIONS,
        30_000,
      );
      const spreadMs = Date.now() - joined;
      const left = Date.now();
      await stop(first);
      await waitUntil(
        'the two others to hold every partition',
        () => active(second).length + active(third).length === PARTITIONS,
        10_000,
      );
      const takeoverMs = Date.now() - left;
      // Visible in the test output with TEST_LOG; asserted by the bounds of the waits.
      if (process.env.TEST_LOG) console.log({ spreadMs, takeoverMs });
    } finally {
      publishing = false;
      await traffic;
    }
    await waitUntil(
      'every stream applied to its last version',
      async () => {
        for (const id of streams) if ((await customerDoc(id))?.version !== version) return false;
        return true;
      },
      30_000,
      200,
    );
    // Per stream, the versions applied (by whichever instance) only go up; a lower one is
    // only ever a redelivery of an event the previous holder applied and could not ack.
    const highest = new Map<string, number>();
    const backwards: string[] = [];
    for (const e of appliedInOrder()) {
      const seen = highest.get(e.stream) ?? 0;
      if (e.version < seen && !e.redelivered)
        backwards.push(`${e.stream} v${e.version} after v${seen}`);
      highest.set(e.stream, Math.max(seen, e.version));
    }
    expect(backwards).toEqual([]);
    for (const id of streams) expect(highest.get(`customer:${id}`)).toBe(version);
  });

  it('joins converge while renames race placements over three projectors', async () => {
    while (running.size < 3) await start();
    await waitUntil('every instance to be consuming', () =>
      [...running].every((s) => s.projector?.isConsuming),
    );
    const run = randomUUID().slice(0, 8);
    const customers = Array.from({ length: 30 }, (_, i) => `jc-${i}-${run}`);
    const rooms = Array.from({ length: 10 }, (_, i) => `jr-${i}-${run}`);
    const reservations: Array<{ id: string; customer: string; room: string }> = [];
    const renames = 6;
    // Rounds of: a rename of every customer, a reservation for each, a room registered now
    // and then - the streams land on different partitions, so different instances apply a
    // customer's renames and its reservations at the same time.
    for (let v = 1; v <= renames; v++) {
      const round = customers.flatMap((c, i): Ev[] => {
        const id = `jres-${i}-${v}-${run}`;
        const room = rooms[(i + v) % rooms.length]!;
        reservations.push({ id, customer: c, room });
        return [
          rename(c, v),
          {
            streamType: 'reservation',
            streamId: id,
            version: 1,
            type: 'ReservationPlaced',
            data: {
              customerId: c,
              roomId: room,
              checkIn: '2026-06-01',
              checkOut: '2026-06-03',
              nights: 2,
              guests: 1,
              ratePerNight: 100,
              totalPrice: 200,
            },
          },
        ];
      });
      if (v === 3) {
        round.push(
          ...rooms.map((r) => ({
            streamType: 'room',
            streamId: r,
            version: 1,
            type: 'RoomRegistered',
            data: {
              hotel: `Hotel ${r}`,
              city: 'Porto',
              number: '7',
              roomType: 'single',
              capacity: 1,
              ratePerNight: 100,
            },
          })),
        );
      }
      await publish(round);
    }
    type View = { customer: { name: string | null } | null; room: { hotel: string | null } | null };
    const wrong = async () => {
      const res = await es.client.mget<View>({
        index: `${es.prefix}-reservations`,
        ids: reservations.map((r) => r.id),
      });
      return res.docs.flatMap((d, i) => {
        const r = reservations[i]!;
        const v = 'found' in d && d.found ? d._source : undefined;
        const ok =
          v?.customer?.name === `${r.customer} v${renames}` && v.room?.hotel === `Hotel ${r.room}`;
        return ok ? [] : [{ id: r.id, name: v?.customer?.name, hotel: v?.room?.hotel }];
      });
    };
    await waitUntil(
      "every reservation to show its guest's last name and its room",
      async () => (await wrong()).length === 0,
      60_000,
      250,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${JSON.stringify((await wrong()).slice(0, 5))}`);
    });
    expect(await wrong()).toEqual([]);
  });
});
