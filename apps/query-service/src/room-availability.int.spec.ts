import { AggregateRuntime } from '@cqrs/aggregates';
import { formatConsistencyToken } from '@cqrs/core';
import { createKnex, migrate, MySqlEventStore } from '@cqrs/event-store';
import { hotelAggregates } from '@cqrs/hotel';
import { createEventBackends, waitUntil, type EventBackends } from '@cqrs/testing';
import type { Knex } from 'knex';
import pino from 'pino';
import { createQueryService, type QueryService } from './service';

/**
 * GET /rooms/availability agrees with the write side (the claims table) after a burst of
 * concurrent placements, cancellations and a check-out - delivered out of order and twice.
 */
jest.setTimeout(90_000);

const ROOMS = ['rm-1', 'rm-2', 'rm-3'];
const WINDOW = 8;
const night = (i: number) => `2031-03-${String(i + 1).padStart(2, '0')}`;

describe('room availability (command side in process, RabbitMQ, Elasticsearch)', () => {
  let backends: EventBackends;
  let knex: Knex;
  let service: QueryService;

  beforeAll(async () => {
    backends = await createEventBackends('availability');
    knex = createKnex(backends.db.url, { poolMax: 10 });
    await migrate(knex);
    service = await createQueryService(
      {
        ...backends.urls,
        adminToken: 'admin',
        roles: { api: true, projector: true },
        prefetch: 200,
        batchDelayMs: 5,
      },
      pino({ level: process.env.TEST_LOG ?? 'silent' }),
    );
    await waitUntil('the projector to consume', () => service.projector?.isConsuming);
  });

  afterAll(async () => {
    await service?.close();
    await knex?.destroy();
    await backends?.close();
  });

  const available = async (query: string, headers: Record<string, string> = {}) => {
    const res = await service.app.inject({
      method: 'GET',
      url: `/rooms/availability?${query}&size=100`,
      headers,
    });
    return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
  };
  const ids = (body: Record<string, unknown>) =>
    (body.hits as { id: string }[]).map((h) => h.id).sort();

  it('answers what the claims say, after a burst delivered out of order and twice', async () => {
    const store = new MySqlEventStore(knex);
    const runtime = new AggregateRuntime({ store, aggregates: hotelAggregates });
    const send = (type: string, id: string, command: string, data: Record<string, unknown> = {}) =>
      runtime.execute({
        aggregateType: type,
        aggregateId: id,
        command: { type: command, data },
        metadata: {},
      });
    await send('customer', 'c-1', 'RegisterCustomer', { name: 'Ada', email: 'ada@example.com' });
    for (const [i, id] of ROOMS.entries()) {
      await send('room', id, 'RegisterRoom', {
        hotel: 'Grand',
        city: 'Porto',
        number: String(i),
        roomType: 'double',
        capacity: 2,
        ratePerNight: 10_000,
      });
    }
    const outcomes = await Promise.allSettled(
      Array.from({ length: 60 }, (_, i) => {
        const nights = 1 + (i % 3);
        const from = (i * 5) % (WINDOW - nights + 1);
        return send('reservation', `r-${i}`, 'PlaceReservation', {
          customerId: 'c-1',
          roomId: ROOMS[i % ROOMS.length],
          checkIn: night(from),
          checkOut: night(from + nights),
          guests: 1,
        }).then(() => `r-${i}`);
      }),
    );
    const placed = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    expect(placed.length).toBeGreaterThan(ROOMS.length);
    for (const [k, id] of placed.entries()) {
      if (k % 3 === 0) {
        await send('reservation', id, 'CancelReservation');
      }
    }
    const leaving = placed.find((_, k) => k % 3 === 1)!;
    for (const command of ['ConfirmReservation', 'CheckInGuest', 'CheckOutGuest']) {
      await send('reservation', leaving, command);
    }
    await runtime.close();

    const events = await store.readAll({ limit: 10_000 });
    await backends.publish([...events].reverse());
    await backends.publish(events);

    const [claims] = (await knex.raw(
      "SELECT claim_key FROM claims WHERE scope = 'room-night'",
    )) as [{ claim_key: string }[]];
    const held = new Set(claims.map((c) => c.claim_key));
    const freeOn = (from: number, to: number) =>
      ROOMS.filter((room) =>
        Array.from({ length: to - from }, (_, d) => night(from + d)).every(
          (n) => !held.has(`${room}/${n}`),
        ),
      ).sort();

    // The last version of every room and of every reservation that holds or held a night:
    // with partitioned projection only the named streams are guaranteed applied.
    const streams = [
      ...ROOMS.map((id) => ['room', id]),
      ...placed.map((id) => ['reservation', id]),
    ];
    expect(streams.length).toBeLessThanOrEqual(50);
    const tokens = streams.map(([streamType, id]) => {
      const last = events.filter((e) => e.streamType === streamType && e.streamId === id).at(-1)!;
      return formatConsistencyToken({
        streamType: streamType!,
        streamId: id!,
        version: last.version,
      });
    });
    const first = await available(`checkIn=${night(0)}&checkOut=${night(1)}`, {
      'x-consistency-token': tokens.join(','),
    });
    expect(first.status).toBe(200);
    expect(ids(first.body)).toEqual(freeOn(0, 1));
    // Every placement and its redelivery is applied once the token streams are; to be sure the
    // later checks do not race the projector, wait for one full agreement first.
    await waitUntil('the read model to agree with the claims', async () => {
      for (let d = 0; d < WINDOW; d++) {
        const r = await available(`checkIn=${night(d)}&checkOut=${night(d + 1)}`);
        if (JSON.stringify(ids(r.body)) !== JSON.stringify(freeOn(d, d + 1))) return false;
      }
      return true;
    });
    const whole = await available(`checkIn=${night(0)}&checkOut=${night(WINDOW)}&city=Porto`);
    expect(ids(whole.body)).toEqual(freeOn(0, WINDOW));
    const two = await available(`checkIn=${night(2)}&checkOut=${night(4)}`);
    expect(two.body.hits).toEqual(
      freeOn(2, 4).map((id) => expect.objectContaining({ id, nights: 2, totalPrice: 20_000 })),
    );
    expect(
      ids((await available(`checkIn=${night(0)}&checkOut=${night(1)}&guests=3`)).body),
    ).toEqual([]);
  });

  it.each([
    ['a malformed date', 'checkIn=2031-02-30&checkOut=2031-03-02'],
    ['checkOut before checkIn', 'checkIn=2031-03-02&checkOut=2031-03-01'],
    ['checkOut equal to checkIn', 'checkIn=2031-03-02&checkOut=2031-03-02'],
    ['a stay over 365 nights', 'checkIn=2031-01-01&checkOut=2032-01-02'],
    ['no dates', 'city=Porto'],
    ['zero guests', 'checkIn=2031-03-01&checkOut=2031-03-02&guests=0'],
  ])('answers %s with 400 problem+json', async (_what, query) => {
    const res = await available(query);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: 400 });
  });
});
