import { roomsProjection } from './projection';
import { run, ev } from '../testing/projection-harness';
import { room } from '../testing/hotel-events';

describe('hotel projections', () => {
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
});
