import { ev } from './projection-harness';

/** A customer, a room and a reservation of both, as the hotel's aggregates record them. */

export const registered = ev('customer', 'c1', 1, 'CustomerRegistered', {
  name: 'Ada Lovelace',
  email: 'ada@example.com',
});
export const renamed = ev('customer', 'c1', 2, 'CustomerRenamed', { name: 'Ada King' });
export const contact = ev('customer', 'c1', 3, 'CustomerContactChanged', { email: 'ada@king.org' });
export const room = ev('room', 'rm1', 1, 'RoomRegistered', {
  hotel: 'Grand',
  city: 'Lisbon',
  number: '101',
  roomType: 'double',
  capacity: 2,
  ratePerNight: 12000,
});
export const placed = ev('reservation', 'r1', 1, 'ReservationPlaced', {
  customerId: 'c1',
  roomId: 'rm1',
  checkIn: '2026-03-01',
  checkOut: '2026-03-03',
  guests: 2,
  nights: 2,
  ratePerNight: 12000,
  totalPrice: 24000,
});
export const confirmed = ev('reservation', 'r1', 2, 'ReservationConfirmed');
