import { aggregateRegistry } from '@cqrs/aggregates';
import { customer } from './customer/customer';
import { reservation } from './reservation/reservation';
import { room } from './room/room';
import type { CustomerEvent } from './customer/events';
import type { ReservationEvent } from './reservation/events';
import type { RoomEvent } from './room/events';

export { customer, CustomerCommands } from './customer/customer';
export { CustomerEvents, type CustomerEvent } from './customer/events';
export { customerMachine, type CustomerContext } from './customer/machine';
export { room, RoomCommands } from './room/room';
export { RoomEvents, RoomTypes, type RoomEvent, type RoomType } from './room/events';
export { roomMachine, type RoomContext } from './room/machine';
export { reservation, ReservationCommands } from './reservation/reservation';
export { ReservationEvents, type ReservationEvent } from './reservation/events';
export {
  reservationMachine,
  DEFAULT_RESERVATION_HOLD_MS,
  type ReservationContext,
} from './reservation/machine';
export {
  MAX_STAY_NIGHTS,
  ROOM_NIGHT,
  nightsOf,
  roomNights,
  nightOf,
} from './reservation/room-nights';

/** Every hotel aggregate type, for the runtime: `customer`, `room`, `reservation`. */
export const hotelAggregates = aggregateRegistry(customer, room, reservation);

/** Every hotel event, discriminated by `type` (what the read models project). */
export type HotelEvent = CustomerEvent | RoomEvent | ReservationEvent;
