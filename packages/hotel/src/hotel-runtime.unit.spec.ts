import { AggregateRuntime } from '@cqrs/aggregates';
import { InMemoryEventStore } from '@cqrs/aggregates/testing';
import { DomainRejectionError } from '@cqrs/core';
import { hotelAggregates } from './index';

/** The hotel domain hosted by the real runtime over an in-memory event store. */
describe('hotel aggregates in the runtime', () => {
  const metadata = { correlationId: 'test' };
  let store: InMemoryEventStore;
  let a: AggregateRuntime;
  let b: AggregateRuntime;
  const run = (
    runtime: AggregateRuntime,
    aggregateType: string,
    aggregateId: string,
    type: string,
    data: Record<string, unknown> = {},
  ) => runtime.execute({ aggregateType, aggregateId, command: { type, data }, metadata });

  beforeEach(async () => {
    store = new InMemoryEventStore();
    a = new AggregateRuntime({ store, aggregates: hotelAggregates, idlePassivationMs: 0 });
    b = new AggregateRuntime({ store, aggregates: hotelAggregates, idlePassivationMs: 0 });
    await run(a, 'customer', 'c-1', 'RegisterCustomer', { name: 'Ada', email: 'ada@example.com' });
    await run(a, 'room', 'room-1', 'RegisterRoom', {
      hotel: 'Grand',
      city: 'Lisbon',
      number: '101',
      roomType: 'double',
      capacity: 2,
      ratePerNight: 12_000,
    });
  });

  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  const placement = {
    customerId: 'c-1',
    roomId: 'room-1',
    checkIn: '2030-05-01',
    checkOut: '2030-05-03',
    guests: 2,
  };

  it('takes a reservation through its whole lifecycle', async () => {
    const placed = await run(a, 'reservation', 'r-1', 'PlaceReservation', placement);
    expect(placed.created).toBe(true);
    for (const command of ['ConfirmReservation', 'CheckInGuest', 'CheckOutGuest']) {
      expect((await run(a, 'reservation', 'r-1', command)).created).toBe(false);
    }
    expect(await a.load('reservation', 'r-1')).toMatchObject({
      version: 4,
      state: 'checkedOut',
      context: { nights: 2, ratePerNight: 12_000, totalPrice: 24_000 },
    });
  });

  it("reads the customer's current state, even when another process changed it", async () => {
    await run(a, 'customer', 'c-1', 'RenameCustomer', { name: 'Ada King' }); // a caches c-1
    await run(b, 'customer', 'c-1', 'DeactivateCustomer', {});
    const refused = run(a, 'reservation', 'r-1', 'PlaceReservation', placement);
    await expect(refused).rejects.toBeInstanceOf(DomainRejectionError);
    await expect(refused).rejects.toMatchObject({ rule: 'customer-active', state: 'nonexistent' });
  });

  it("prices with the room's rate at the time of placing, whoever changed it", async () => {
    await run(b, 'room', 'room-1', 'ChangeRoomRate', { ratePerNight: 10_000 });
    await run(a, 'reservation', 'r-1', 'PlaceReservation', placement);
    await run(a, 'room', 'room-1', 'ChangeRoomRate', { ratePerNight: 99_000 });
    expect((await a.load('reservation', 'r-1')).context).toMatchObject({ totalPrice: 20_000 });
  });
});
