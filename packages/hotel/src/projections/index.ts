import { customersProjection } from './customers';
import { eventLogProjection } from './event-log';
import { reservationsProjection } from './reservations';
import { roomsProjection } from './rooms';

export { customersProjection, type CustomerView } from './customers';
export { roomsProjection, type RoomView } from './rooms';
export {
  reservationsProjection,
  customerRefId,
  roomRefId,
  type ReservationDocument,
  type ReservationStatus,
  type GuestPart,
  type RoomPart,
} from './reservations';
export { eventLogProjection, type EventLogEntry } from './event-log';
export { assignNewer, mergeNewer, type Versioned } from './versioned';

/** Every read model of the hotel domain, in the order a batch should be projected. */
export const hotelProjections = [
  eventLogProjection,
  customersProjection,
  roomsProjection,
  reservationsProjection,
] as const;
