import type { ReadModel } from '@cqrs/search';
import { roomAvailabilityMapping } from './mapping';
import { roomAvailabilityProjection, type AvailabilityDocument } from './projection';
import { roomAvailabilityRoutes } from './routes';

/**
 * `room-availability`: one document per room with the nights its reservations hold;
 * `GET /rooms/availability`. See docs/room-calendar.md "Availability".
 */
export const roomAvailabilityModel: ReadModel<AvailabilityDocument> = {
  projection: roomAvailabilityProjection,
  mappings: roomAvailabilityMapping,
  routes: roomAvailabilityRoutes,
};
