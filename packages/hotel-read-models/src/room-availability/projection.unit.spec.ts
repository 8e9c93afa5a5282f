import { ev, run } from '../testing/projection-harness';
import { roomAvailabilityProjection } from './projection';

const registered = ev('room', 'rm1', 1, 'RoomRegistered', {
  hotel: 'Grand',
  city: 'Porto',
  number: '7',
  roomType: 'double',
  capacity: 2,
  ratePerNight: 10_000,
});
const placed = (id: string, checkIn: string, checkOut: string) =>
  ev('reservation', id, 1, 'ReservationPlaced', {
    customerId: 'c1',
    roomId: 'rm1',
    checkIn,
    checkOut,
    guests: 1,
    nights: 0,
    ratePerNight: 10_000,
    totalPrice: 0,
  });
const cancelled = (id: string) => ev('reservation', id, 2, 'ReservationCancelled');
const confirmed = (id: string) => ev('reservation', id, 2, 'ReservationConfirmed');
const checkedIn = (id: string) => ev('reservation', id, 3, 'GuestCheckedIn');
const checkedOut = (id: string, on: string) =>
  ev('reservation', id, 4, 'GuestCheckedOut', { checkedOutOn: on });

const heldNights = (events: Parameters<typeof run>[1]) =>
  run(roomAvailabilityProjection, events).get('rm1')?.heldNights;

describe('room-availability projection', () => {
  it('holds [checkIn, checkOut) of every live reservation, frees cancelled ones', () => {
    expect(
      heldNights([
        registered,
        placed('r1', '2030-05-01', '2030-05-03'),
        placed('r2', '2030-05-03', '2030-05-04'),
        placed('r3', '2030-05-06', '2030-05-07'),
        cancelled('r3'),
      ]),
    ).toEqual(['2030-05-01', '2030-05-02', '2030-05-03']);
  });

  it('an early check-out frees the nights from that day on', () => {
    const stay = [
      registered,
      placed('r1', '2030-05-01', '2030-05-05'),
      confirmed('r1'),
      checkedIn('r1'),
    ];
    expect(heldNights([...stay, checkedOut('r1', '2030-05-03')])).toEqual([
      '2030-05-01',
      '2030-05-02',
    ]);
    expect(heldNights([...stay, checkedOut('r1', '2030-04-20')])).toEqual([]);
  });

  it('is the same whatever order the events arrive in, and under redelivery', () => {
    const events = [
      registered,
      placed('r1', '2030-05-01', '2030-05-03'),
      cancelled('r1'),
      placed('r2', '2030-05-02', '2030-05-04'),
      confirmed('r2'),
      checkedIn('r2'),
      checkedOut('r2', '2030-05-03'),
      placed('r3', '2030-05-08', '2030-05-09'),
    ];
    const expected = heldNights(events);
    expect(expected).toEqual(['2030-05-02', '2030-05-08']);
    // Every rotation of the list (placements overtaken by their later events), reversed,
    // and each event delivered twice.
    for (let k = 0; k < events.length; k++) {
      const rotated = [...events.slice(k), ...events.slice(0, k)];
      expect(heldNights(rotated)).toEqual(expected);
      expect(heldNights([...rotated].reverse())).toEqual(expected);
      expect(heldNights(rotated.flatMap((e) => [e, e]))).toEqual(expected);
    }
  });

  it('a room is known by its registration; its rate follows changes', () => {
    const doc = run(roomAvailabilityProjection, [
      placed('r1', '2030-05-01', '2030-05-02'),
      ev('room', 'rm1', 2, 'RoomRateChanged', { ratePerNight: 12_000 }),
      registered,
    ]).get('rm1');
    expect(doc).toMatchObject({ kind: 'room', status: 'available', ratePerNight: 12_000 });
    expect(doc?.heldNights).toEqual(['2030-05-01']);
  });
});
