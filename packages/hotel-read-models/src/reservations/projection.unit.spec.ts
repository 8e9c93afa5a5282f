import { reservationsProjection, type ReservationDocument } from './projection';
import { run, ev, permutations } from '../testing/projection-harness';
import { registered, renamed, contact, room, placed, confirmed } from '../testing/hotel-events';

const view = (d: ReservationDocument | undefined) =>
  d && {
    status: d.status,
    checkIn: d.checkIn,
    version: d.version,
    customer: d.customer && { id: d.customer.id, name: d.customer.name, email: d.customer.email },
    room: d.room && { id: d.room.id, hotel: d.room.hotel, number: d.room.number },
  };

describe('hotel projections', () => {
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
});
