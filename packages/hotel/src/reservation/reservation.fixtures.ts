/**
 * The events the reservation specs start from (test-only, not exported by the package): the
 * guest `c-1`, the room `room-1` at a rate per night, and its placement for three nights.
 */
export const customerRegistered = {
  type: 'CustomerRegistered',
  data: { name: 'Ada', email: 'ada@example.com' },
};
export const roomRegisteredAt = (ratePerNight: number) => ({
  type: 'RoomRegistered',
  data: {
    hotel: 'Grand',
    city: 'Lisbon',
    number: '101',
    roomType: 'double',
    capacity: 2,
    ratePerNight,
  },
});
/** What `c-1` asks for: `room-1` from 2030-05-01 to 2030-05-04 for two guests. */
export const stay = {
  customerId: 'c-1',
  roomId: 'room-1',
  checkIn: '2030-05-01',
  checkOut: '2030-05-04',
  guests: 2,
};
/** The placement of `stay`: three nights. */
export const placedAt = (ratePerNight: number) => ({
  type: 'ReservationPlaced',
  data: {
    ...stay,
    nights: 3,
    ratePerNight,
    totalPrice: 3 * ratePerNight,
  },
});
export const confirmed = { type: 'ReservationConfirmed', data: {} };
export const checkedIn = { type: 'GuestCheckedIn', data: {} };
