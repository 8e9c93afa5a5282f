import { aggregateTest, type GivenEvent } from '@cqrs/aggregates/testing';
import { customer } from '../customer/customer';
import { room } from '../room/room';
import { reservation } from './reservation';
import {
  checkedIn,
  confirmed,
  customerRegistered,
  placedAt,
  roomRegisteredAt,
  stay,
} from './reservation.fixtures';

const { given } = aggregateTest(reservation, { aggregateId: 'r-1' });

const roomRegistered = roomRegisteredAt(12_000);
const place = (change: Record<string, unknown> = {}) => ({
  type: 'PlaceReservation',
  data: { ...stay, ...change },
});
const placed = placedAt(12_000);
const cancelled = { type: 'ReservationCancelled', data: {} };
const checkedOut = { type: 'GuestCheckedOut', data: { checkedOutOn: '2030-01-01' } };
const expired = { type: 'ReservationExpired', data: {} };

/** A reservation scenario whose customer and room exist, unless told otherwise. */
const withGuestAndRoom = (
  history: readonly GivenEvent[] = [],
  guest: readonly GivenEvent[] = [customerRegistered],
  bookedRoom: readonly GivenEvent[] = [roomRegistered],
) => given(history).and(customer, 'c-1', guest).and(room, 'room-1', bookedRoom);

const histories: Record<string, readonly GivenEvent[]> = {
  nonexistent: [],
  pending: [placed],
  confirmed: [placed, confirmed],
  checkedIn: [placed, confirmed, checkedIn],
  checkedOut: [placed, confirmed, checkedIn, checkedOut],
  cancelled: [placed, cancelled],
  expired: [placed, expired],
};

describe('reservation', () => {
  describe('PlaceReservation', () => {
    it('places a reservation priced at the room rate times the nights', async () => {
      const state = await withGuestAndRoom().when(place()).then([placed]);
      expect(state.value).toBe('pending');
      expect(state.context.totalPrice).toBe(36_000);
    });

    it("uses the room's current rate", async () => {
      await withGuestAndRoom(
        [],
        [customerRegistered],
        [roomRegistered, { type: 'RoomRateChanged', data: { ratePerNight: 10_000 } }],
      )
        .when(place({ checkOut: '2030-05-02', guests: 1 }))
        .then([
          {
            type: 'ReservationPlaced',
            data: {
              ...placed.data,
              checkOut: '2030-05-02',
              guests: 1,
              nights: 1,
              ratePerNight: 10_000,
              totalPrice: 10_000,
            },
          },
        ]);
    });

    it('counts nights across a month and a leap day', async () => {
      const state = await withGuestAndRoom()
        .when(place({ checkIn: '2028-02-27', checkOut: '2028-03-02' }))
        .then([
          {
            type: 'ReservationPlaced',
            data: {
              ...placed.data,
              checkIn: '2028-02-27',
              checkOut: '2028-03-02',
              nights: 4,
              totalPrice: 48_000,
            },
          },
        ]);
      expect(state.context.nights).toBe(4);
    });

    it.each([
      ['checkOut equal to checkIn', { checkOut: '2030-05-01' }, 'data/checkOut'],
      ['checkOut before checkIn', { checkOut: '2030-04-30' }, 'data/checkOut'],
      ['a day that does not exist', { checkIn: '2030-02-30' }, 'data/checkIn'],
      ['a month that does not exist', { checkOut: '2030-13-01' }, 'data/checkOut'],
      ['a date in another format', { checkIn: '01/05/2030' }, 'data/checkIn'],
      ['zero guests', { guests: 0 }, 'data/guests'],
      ['a fractional number of guests', { guests: 1.5 }, 'data/guests'],
      ['a malformed customer id', { customerId: 'c 1' }, 'data/customerId'],
      ['a missing room id', { roomId: undefined }, 'data/roomId'],
    ])('rejects %s (400)', async (_what, change, field) => {
      await withGuestAndRoom().when(place(change)).thenInvalid([field]);
    });

    it.each([
      ['the customer does not exist', [], [roomRegistered], 'customer-exists'],
      [
        'the customer is deactivated',
        [customerRegistered, { type: 'CustomerDeactivated', data: {} }],
        [roomRegistered],
        'customer-active',
      ],
      ['the room does not exist', [customerRegistered], [], 'room-exists'],
      [
        'the room is retired',
        [customerRegistered],
        [roomRegistered, { type: 'RoomRetired', data: {} }],
        'room-available',
      ],
    ])('is refused when %s (422)', async (_what, guest, bookedRoom, rule) => {
      await withGuestAndRoom([], guest, bookedRoom)
        .when(place())
        .thenRejects({ state: 'nonexistent', rule });
    });

    it('is refused when the guests exceed the room capacity (422)', async () => {
      const error = await withGuestAndRoom()
        .when(place({ guests: 3 }))
        .thenRejects({ rule: 'room-capacity' });
      expect(error.reason).toMatch(/holds 2 guest/);
    });

    it.each(Object.keys(histories).filter((s) => s !== 'nonexistent'))(
      'is refused when the reservation is already %s',
      async (state) => {
        await withGuestAndRoom(histories[state])
          .when(place())
          .thenRejects({ state, rule: 'lifecycle' });
      },
    );
  });

  // Every lifecycle command in every state: the allowed transitions of docs/api.md, 422 elsewhere.
  const lifecycle: ReadonlyArray<{
    command: { type: string; data: Record<string, unknown> };
    event: GivenEvent;
    from: Record<string, string>;
  }> = [
    {
      command: { type: 'ConfirmReservation', data: {} },
      event: confirmed,
      from: { pending: 'confirmed' },
    },
    {
      command: { type: 'CancelReservation', data: { reason: 'plans changed' } },
      event: { type: 'ReservationCancelled', data: { reason: 'plans changed' } },
      from: { pending: 'cancelled', confirmed: 'cancelled' },
    },
    {
      command: { type: 'CheckInGuest', data: {} },
      event: checkedIn,
      from: { confirmed: 'checkedIn' },
    },
    {
      command: { type: 'CheckOutGuest', data: {} },
      event: checkedOut,
      from: { checkedIn: 'checkedOut' },
    },
    {
      command: { type: 'ExpireReservation', data: {} },
      event: expired,
      from: { pending: 'expired' },
    },
  ];

  for (const { command, event, from } of lifecycle) {
    describe(command.type, () => {
      for (const [state, history] of Object.entries(histories)) {
        const target = from[state];
        if (target) {
          it(`moves ${state} -> ${target}`, async () => {
            const next = await given(history).when(command).then([event]);
            expect(next.value).toBe(target);
          });
        } else {
          it(`is refused in ${state} (422)`, async () => {
            await given(history).when(command).thenRejects({ state, rule: 'lifecycle' });
          });
        }
      }
    });
  }

  it('cancels without a reason', async () => {
    await given([placed]).when({ type: 'CancelReservation', data: {} }).then([cancelled]);
  });

  it('rejects unexpected fields on an empty command (400)', async () => {
    await given([placed])
      .when({ type: 'ConfirmReservation', data: { now: true } })
      .thenInvalid(['data/now']);
  });
});
