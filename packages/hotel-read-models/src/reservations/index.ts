import type { ReadModel } from '@cqrs/search';
import { reservationsMapping } from './mapping';
import { reservationsProjection, type ReservationDocument } from './projection';
import { reservationRoutes } from './routes';

/**
 * `reservations`: each reservation joined with its guest and room;
 * `GET /reservations/{id}`, `GET /reservations` (free text, filters, facets, sorts).
 */
export const reservationsModel: ReadModel<ReservationDocument> = {
  projection: reservationsProjection,
  mappings: reservationsMapping,
  routes: reservationRoutes,
};
