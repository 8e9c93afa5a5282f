import { isCustomerEvent, isReservationEvent, isRoomEvent } from './hotel-event';
import { ev } from './testing/projection-harness';

describe('hotel event unions', () => {
  it('narrow by stream type and event name', () => {
    const renamed = ev('customer', 'c1', 2, 'CustomerRenamed', { name: 'Ada King' });
    expect(
      isCustomerEvent(renamed) && renamed.type === 'CustomerRenamed' && renamed.data.name,
    ).toBe('Ada King');
    expect(isRoomEvent(ev('room', 'rm1', 1, 'RoomRetired'))).toBe(true);
    expect(isReservationEvent(ev('reservation', 'r1', 2, 'GuestCheckedIn'))).toBe(true);
  });

  it('leave out events the domain does not know and events of another stream type', () => {
    expect(isCustomerEvent(ev('customer', 'c1', 4, 'CustomerFeltLucky'))).toBe(false);
    expect(isCustomerEvent(ev('room', 'rm1', 1, 'CustomerRenamed', { name: 'x' }))).toBe(false);
    expect(isRoomEvent(ev('reservation', 'r1', 1, 'RoomRetired'))).toBe(false);
  });
});
