import type { EventEnvelope, ReadModelProjection } from '@cqrs/core';
import {
  customersProjection,
  eventLogProjection,
  reservationsProjection,
  roomsProjection,
  type ReservationDocument,
} from './index';

/** A minimal in-memory engine: what packages/search does against Elasticsearch. */
function run<T extends object>(
  projection: ReadModelProjection<T>,
  events: readonly EventEnvelope[],
): Map<string, T> {
  const docs = new Map<string, T>();
  const ctx = (id: string) => ({ id, lookup: (other: string) => docs.get(other) });
  for (const event of events) {
    for (const target of projection.targets(event)) {
      const ids =
        'id' in target
          ? [target.id]
          : [...docs.entries()]
              .filter(([, d]) => path(d, target.field) === target.value)
              .map(([id]) => id);
      for (const id of ids) {
        const next = projection.evolve(docs.get(id), event, ctx(id));
        if (next) docs.set(id, next);
      }
    }
  }
  return docs;
}

function path(doc: object, field: string): unknown {
  return field
    .split('.')
    .reduce<unknown>(
      (o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
      doc,
    );
}

let seq = 0;
function ev(
  streamType: string,
  streamId: string,
  version: number,
  type: string,
  data: Record<string, unknown> = {},
): EventEnvelope {
  seq += 1;
  return {
    eventId: `e-${streamType}-${streamId}-${version}`,
    streamType,
    streamId,
    version,
    position: String(seq),
    type,
    schemaVersion: 1,
    occurredAt: `2026-01-01T00:00:${String(version).padStart(2, '0')}.000000Z`,
    data,
    metadata: {},
  };
}

const registered = ev('customer', 'c1', 1, 'CustomerRegistered', {
  name: 'Ada Lovelace',
  email: 'ada@example.com',
});
const renamed = ev('customer', 'c1', 2, 'CustomerRenamed', { name: 'Ada King' });
const contact = ev('customer', 'c1', 3, 'CustomerContactChanged', { email: 'ada@king.org' });
const room = ev('room', 'rm1', 1, 'RoomRegistered', {
  hotel: 'Grand',
  city: 'Lisbon',
  number: '101',
  roomType: 'double',
  capacity: 2,
  ratePerNight: 12000,
});
const placed = ev('reservation', 'r1', 1, 'ReservationPlaced', {
  customerId: 'c1',
  roomId: 'rm1',
  checkIn: '2026-03-01',
  checkOut: '2026-03-03',
  guests: 2,
  nights: 2,
  ratePerNight: 12000,
  totalPrice: 24000,
});
const confirmed = ev('reservation', 'r1', 2, 'ReservationConfirmed');

/** Every permutation of a small list. */
function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) =>
    permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]),
  );
}

const view = (d: ReservationDocument | undefined) =>
  d && {
    status: d.status,
    checkIn: d.checkIn,
    version: d.version,
    customer: d.customer && { id: d.customer.id, name: d.customer.name, email: d.customer.email },
    room: d.room && { id: d.room.id, hotel: d.room.hotel, number: d.room.number },
  };

describe('hotel projections', () => {
  it('customers: folds a customer stream into its current state', () => {
    const doc = run(customersProjection, [registered, renamed, contact]).get('c1');
    expect(doc).toMatchObject({
      name: 'Ada King',
      email: 'ada@king.org',
      phone: null,
      status: 'active',
      version: 3,
    });
  });

  it('customers: a stale or duplicate event changes nothing', () => {
    const docs = run(customersProjection, [registered, contact, renamed]);
    const doc = docs.get('c1')!;
    expect(
      customersProjection.evolve(doc, renamed, { id: 'c1', lookup: () => undefined }),
    ).toBeUndefined();
    expect(
      customersProjection.evolve(doc, registered, { id: 'c1', lookup: () => undefined }),
    ).toBeUndefined();
    expect(doc).toMatchObject({ name: 'Ada King', email: 'ada@king.org', version: 3 });
  });

  it('rooms: a rate change and retirement apply on top of the registration', () => {
    const doc = run(roomsProjection, [
      room,
      ev('room', 'rm1', 2, 'RoomRateChanged', { ratePerNight: 15000 }),
      ev('room', 'rm1', 3, 'RoomRetired'),
    ]).get('rm1');
    expect(doc).toMatchObject({
      hotel: 'Grand',
      ratePerNight: 15000,
      status: 'retired',
      version: 3,
    });
  });

  it('reservations: the join converges whatever order the streams arrive in', () => {
    const expected = {
      status: 'confirmed',
      checkIn: '2026-03-01',
      version: 2,
      customer: { id: 'c1', name: 'Ada King', email: 'ada@king.org' },
      room: { id: 'rm1', hotel: 'Grand', number: '101' },
    };
    const events = [registered, renamed, contact, room, placed, confirmed];
    for (const order of permutations(events)) {
      expect(view(run(reservationsProjection, order).get('r1'))).toEqual(expected);
    }
  });

  it('reservations: duplicates change nothing', () => {
    const events = [registered, room, placed, confirmed, renamed];
    const once = run(reservationsProjection, events).get('r1');
    const twice = run(reservationsProjection, [...events, ...events.slice().reverse()]).get('r1');
    expect(twice).toEqual(once);
  });

  it('reservations: a rename reaches every reservation of the customer, and only those', () => {
    const other = ev('reservation', 'r2', 1, 'ReservationPlaced', {
      ...placed.data,
      customerId: 'c2',
    });
    const mine = ev('reservation', 'r3', 1, 'ReservationPlaced', placed.data);
    const docs = run(reservationsProjection, [registered, placed, other, mine, renamed]);
    expect(docs.get('r1')?.customer?.name).toBe('Ada King');
    expect(docs.get('r3')?.customer?.name).toBe('Ada King');
    expect(docs.get('r2')?.customer).toMatchObject({ id: 'c2', name: null });
  });

  it('reservations: keeps reference documents apart from reservations', () => {
    const docs = run(reservationsProjection, [registered, room, placed]);
    expect(docs.get('customer:c1')?.kind).toBe('customer');
    expect(docs.get('room:rm1')?.kind).toBe('room');
    expect(docs.get('r1')?.kind).toBe('reservation');
  });

  it('reservations: a cancellation keeps its reason; a late confirmation does not undo it', () => {
    const cancelled = ev('reservation', 'r1', 3, 'ReservationCancelled', { reason: 'storm' });
    const doc = run(reservationsProjection, [placed, cancelled, confirmed]).get('r1');
    expect(doc).toMatchObject({ status: 'cancelled', cancellationReason: 'storm', version: 3 });
  });

  it('events: every event once, a redelivery changes nothing', () => {
    const docs = run(eventLogProjection, [registered, renamed, registered]);
    expect([...docs.keys()]).toEqual([registered.eventId, renamed.eventId]);
    expect(docs.get(renamed.eventId)).toMatchObject({ type: 'CustomerRenamed', version: 2 });
  });
});
