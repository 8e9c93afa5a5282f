/**
 * The streams the memory benchmark seeds and loads, a realistic mix: two customers and two
 * reservations (placed, then confirmed) for every room. Stream `i` is the same in the
 * parent (which writes it) and the child (which loads it).
 */
export interface SeedStream {
  readonly type: 'customer' | 'room' | 'reservation';
  readonly id: string;
  readonly events: ReadonlyArray<{ readonly type: string; readonly data: Record<string, unknown> }>;
}

export function streamOf(i: number): SeedStream {
  const id = `m${i.toString(36)}`;
  switch (i % 5) {
    case 0:
    case 1:
      return {
        type: 'customer',
        id,
        events: [
          {
            type: 'CustomerRegistered',
            data: {
              name: `Guest number ${i}`,
              email: `guest${i}@bench.example`,
              phone: '+3312345678',
            },
          },
        ],
      };
    case 2:
      return {
        type: 'room',
        id,
        events: [
          {
            type: 'RoomRegistered',
            data: {
              hotel: 'Grand Hotel Bench',
              city: 'Lyon',
              number: String(100 + (i % 400)),
              roomType: 'double',
              capacity: 2,
              ratePerNight: 12_000,
            },
          },
        ],
      };
    default:
      return {
        type: 'reservation',
        id,
        events: [
          {
            type: 'ReservationPlaced',
            data: {
              customerId: `m${(i - 3).toString(36)}`,
              roomId: `m${(i - (i % 5) + 2).toString(36)}`,
              checkIn: '2026-12-01',
              checkOut: '2026-12-04',
              guests: 2,
              nights: 3,
              ratePerNight: 12_000,
              totalPrice: 36_000,
            },
          },
          { type: 'ReservationConfirmed', data: {} },
        ],
      };
  }
}
