import { aggregateTest } from '@cqrs/aggregates/testing';
import { room } from './room';

const { given } = aggregateTest(room, { aggregateId: 'room-1' });

const registration = {
  hotel: 'Grand',
  city: 'Lisbon',
  number: '101',
  roomType: 'double',
  capacity: 2,
  ratePerNight: 12_000,
};
const registered = { type: 'RoomRegistered', data: registration };
const retired = { type: 'RoomRetired', data: {} };

describe('room', () => {
  describe('RegisterRoom', () => {
    it('registers a new room', async () => {
      const state = await given([])
        .when({ type: 'RegisterRoom', data: registration })
        .then([registered]);
      expect(state.value).toBe('available');
      expect(state.context.capacity).toBe(2);
    });

    it('stores a numeric room number as its label', async () => {
      await given([])
        .when({ type: 'RegisterRoom', data: { ...registration, number: 7 } })
        .then([{ type: 'RoomRegistered', data: { ...registration, number: '7' } }]);
    });

    it.each([
      ['available', [registered]],
      ['retired', [registered, retired]],
    ])('is refused when the room is already %s', async (state, history) => {
      await given(history)
        .when({ type: 'RegisterRoom', data: registration })
        .thenRejects({ state, rule: 'lifecycle' });
    });

    it.each([
      ['an unknown room type', { roomType: 'penthouse' }, 'data/roomType'],
      ['capacity 0', { capacity: 0 }, 'data/capacity'],
      ['capacity 11', { capacity: 11 }, 'data/capacity'],
      ['a fractional capacity', { capacity: 1.5 }, 'data/capacity'],
      ['a zero rate', { ratePerNight: 0 }, 'data/ratePerNight'],
      ['a negative rate', { ratePerNight: -100 }, 'data/ratePerNight'],
      ['a fractional rate', { ratePerNight: 99.5 }, 'data/ratePerNight'],
      ['a blank hotel', { hotel: ' ' }, 'data/hotel'],
      ['an empty city', { city: '' }, 'data/city'],
      ['a room number of the wrong type', { number: true }, 'data/number'],
    ])('rejects %s (400)', async (_what, change, field) => {
      await given([])
        .when({ type: 'RegisterRoom', data: { ...registration, ...change } })
        .thenInvalid([field]);
    });

    it('names every missing field', async () => {
      await given([])
        .when({ type: 'RegisterRoom', data: {} })
        .thenInvalid([
          'data/hotel',
          'data/city',
          'data/number',
          'data/roomType',
          'data/capacity',
          'data/ratePerNight',
        ]);
    });

    it.each([1, 10])('accepts capacity %i', async (capacity) => {
      await given([])
        .when({ type: 'RegisterRoom', data: { ...registration, capacity } })
        .then([{ type: 'RoomRegistered', data: { ...registration, capacity } }]);
    });
  });

  describe('ChangeRoomRate', () => {
    it('changes the rate of an available room', async () => {
      const state = await given([registered])
        .when({ type: 'ChangeRoomRate', data: { ratePerNight: 15_000 } })
        .then([{ type: 'RoomRateChanged', data: { ratePerNight: 15_000 } }]);
      expect(state.context.ratePerNight).toBe(15_000);
    });

    it.each([
      ['nonexistent', []],
      ['retired', [registered, retired]],
    ])('is refused when the room is %s', async (state, history) => {
      await given(history)
        .when({ type: 'ChangeRoomRate', data: { ratePerNight: 15_000 } })
        .thenRejects({ state, rule: 'lifecycle' });
    });

    it('rejects a rate that is not positive (400)', async () => {
      await given([registered])
        .when({ type: 'ChangeRoomRate', data: { ratePerNight: 0 } })
        .thenInvalid(['data/ratePerNight']);
    });
  });

  describe('RetireRoom', () => {
    it('retires an available room', async () => {
      const state = await given([registered])
        .when({ type: 'RetireRoom', data: {} })
        .then([retired]);
      expect(state.value).toBe('retired');
    });

    it.each([
      ['nonexistent', []],
      ['retired', [registered, retired]],
    ])('is refused when the room is %s', async (state, history) => {
      await given(history)
        .when({ type: 'RetireRoom', data: {} })
        .thenRejects({ state, rule: 'lifecycle' });
    });
  });
});
