import { listOf, queryRoute, searchDocuments, type QueryRoutes } from '@cqrs/search';
import { eventLogProjection, type EventLogEntry } from './projection';
import { EventListQuery, eventSearch } from './query';
import { EventListResponse, eventResponse } from './response';

const model = eventLogProjection.name;

export const eventRoutes: QueryRoutes = (ctx) => async (app) => {
  app.get(
    '/events',
    queryRoute(
      ctx,
      { tags: ['events'], summary: 'The event log, newest first', querystring: EventListQuery },
      EventListResponse,
    ),
    async (request) => {
      const { size = 20, cursor, ...params } = request.query;
      const page = await searchDocuments<EventLogEntry>(
        ctx,
        model,
        { size, cursor },
        eventSearch(params),
      );
      return listOf(page, eventResponse);
    },
  );
};
