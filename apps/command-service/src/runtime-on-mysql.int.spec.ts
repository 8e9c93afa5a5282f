import { AggregateRuntime } from '@cqrs/aggregates';
import { createKnex, migrate, MySqlEventStore } from '@cqrs/event-store';
import { hotelAggregates } from '@cqrs/hotel';
import { createTestDatabase, type TestDatabase } from '@cqrs/testing';
import type { Knex } from 'knex';

/**
 * The aggregate runtime on the real event store: several runtimes stand for several
 * command-service processes sharing one database.
 */
describe('aggregate runtime on the MySQL event store', () => {
  let db: TestDatabase;
  let knex: Knex;
  let store: MySqlEventStore;
  const runtimes: AggregateRuntime[] = [];
  const newRuntime = (snapshotEvery = 100, maxRetries = 5) => {
    const r = new AggregateRuntime({
      store,
      aggregates: hotelAggregates,
      snapshotEvery,
      maxRetries,
      idlePassivationMs: 0,
    });
    runtimes.push(r);
    return r;
  };
  const meta = { correlationId: 'test' };
  const registerRoom = (runtime: AggregateRuntime, id: string) =>
    runtime.execute({
      aggregateType: 'room',
      aggregateId: id,
      command: {
        type: 'RegisterRoom',
        data: {
          hotel: 'Grand',
          city: 'Lyon',
          number: '12',
          roomType: 'double',
          capacity: 2,
          ratePerNight: 10_000,
        },
      },
      metadata: meta,
    });
  const changeRate = (runtime: AggregateRuntime, id: string, ratePerNight: number) =>
    runtime.execute({
      aggregateType: 'room',
      aggregateId: id,
      command: { type: 'ChangeRoomRate', data: { ratePerNight } },
      metadata: meta,
    });

  beforeAll(async () => {
    db = await createTestDatabase('cs_runtime');
    knex = createKnex(db.url, { poolMax: 12 });
    await migrate(knex);
    store = new MySqlEventStore(knex);
  });
  afterAll(async () => {
    await Promise.all(runtimes.map((r) => r.close()));
    await knex.destroy();
    await db.drop();
  });

  it('runs 50 concurrent commands on one aggregate through two runtimes, all with contiguous versions', async () => {
    // One hot aggregate, two processes: a runtime whose mailbox is full keeps winning (it
    // decides from its cache without a read), so the other needs its backoff to grow past
    // that queue - more retries than the default 5 (command-service: CONFLICT_MAX_RETRIES).
    const a = newRuntime(100, 20);
    const b = newRuntime(100, 20);
    await registerRoom(a, 'busy');
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => changeRate(i % 2 === 0 ? a : b, 'busy', 20_000 + i)),
    );
    const versions = results.map((r) => r.result.version).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    const stream = await store.readStream('room', 'busy');
    expect(stream.map((e) => e.version)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    // Each runtime's view catches up with the store, whoever appended last.
    const [viewA, viewB] = await Promise.all([a.load('room', 'busy'), b.load('room', 'busy')]);
    expect(viewA).toEqual(viewB);
    expect(viewA.version).toBe(51);
  });

  it('rehydrates in a new runtime exactly the state the old one had', async () => {
    const old = newRuntime();
    await registerRoom(old, 'rehydrate');
    for (let i = 1; i <= 5; i++) await changeRate(old, 'rehydrate', 10_000 + i);
    await old.execute({
      aggregateType: 'room',
      aggregateId: 'rehydrate',
      command: { type: 'RetireRoom', data: {} },
      metadata: meta,
    });
    const before = await old.load('room', 'rehydrate');
    const fresh = newRuntime();
    expect(await fresh.load('room', 'rehydrate')).toEqual(before);
    expect(before).toMatchObject({ version: 7, state: 'retired' });
  });

  it('restores from snapshot + tail exactly what a full replay gives', async () => {
    const writer = newRuntime(10);
    await registerRoom(writer, 'snap');
    for (let i = 1; i <= 24; i++) await changeRate(writer, 'snap', 30_000 + i);
    await writer.flush();
    const snapshot = await store.loadSnapshot('room', 'snap');
    expect(snapshot?.version).toBe(20);

    const fromSnapshot = await newRuntime(10).load('room', 'snap');
    const fullReplay = await newRuntime(0).load('room', 'snap');
    expect(fromSnapshot).toEqual(fullReplay);
    expect(fromSnapshot.version).toBe(25);
    expect(fromSnapshot.context).toMatchObject({ ratePerNight: 30_024 });
  });

  it('reads other aggregates strongly for a decision (reservation prices from the room)', async () => {
    const r = newRuntime();
    await registerRoom(r, 'priced');
    await changeRate(newRuntime(), 'priced', 15_000); // another process changes the rate
    await r.execute({
      aggregateType: 'customer',
      aggregateId: 'guest',
      command: { type: 'RegisterCustomer', data: { name: 'Ann', email: 'ann@example.com' } },
      metadata: meta,
    });
    const placed = await r.execute({
      aggregateType: 'reservation',
      aggregateId: 'res-1',
      command: {
        type: 'PlaceReservation',
        data: {
          customerId: 'guest',
          roomId: 'priced',
          checkIn: '2027-01-10',
          checkOut: '2027-01-12',
          guests: 2,
        },
      },
      metadata: meta,
    });
    expect(placed.created).toBe(true);
    const [event] = await store.readStream('reservation', 'res-1');
    expect(event?.data).toMatchObject({ nights: 2, ratePerNight: 15_000, totalPrice: 30_000 });
  });
});
