import type { ReadModel } from '@cqrs/search';
import { customersModel } from './customers';
import { eventLogModel } from './event-log';
import { reservationsModel } from './reservations';
import { roomAvailabilityModel } from './room-availability';
import { roomsModel } from './rooms';

/**
 * Every read model of the hotel, one line each: the query service indexes, projects and
 * serves exactly this list (in this order within a batch).
 */
export const readModels: readonly ReadModel[] = [
  eventLogModel,
  customersModel,
  roomsModel,
  reservationsModel,
  roomAvailabilityModel,
];
