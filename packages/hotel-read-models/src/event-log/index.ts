import type { ReadModel } from '@cqrs/search';
import { eventLogMapping } from './mapping';
import { eventLogProjection, type EventLogEntry } from './projection';
import { eventRoutes } from './routes';

/** `events`: every event once, for audit and Kibana; `GET /events`. */
export const eventLogModel: ReadModel<EventLogEntry> = {
  projection: eventLogProjection,
  mappings: eventLogMapping,
  routes: eventRoutes,
};
