import { listOf, searchRoute, type Page, type QueryRoutes } from '@cqrs/search';
import { eventLogProjection, type EventLogEntry } from './projection';
import { EventFilters, eventSearch } from './query';
import { EventListResponse, eventResponse } from './response';

export const eventRoutes: QueryRoutes = (ctx) => async (app) => {
  searchRoute(app, ctx, {
    path: '/events',
    model: eventLogProjection.name,
    tags: ['events'],
    summary: 'The event log, newest first',
    filters: EventFilters,
    response: EventListResponse,
    search: eventSearch,
    answer: (page: Page<EventLogEntry>) => listOf(page, eventResponse),
  });
};
