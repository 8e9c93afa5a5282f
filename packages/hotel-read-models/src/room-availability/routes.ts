import { listOf, searchRoute, type Page, type QueryRoutes } from '@cqrs/search';
import { roomAvailabilityProjection, type AvailabilityDocument } from './projection';
import { AvailabilityFilters, availabilitySearch, stayNights } from './query';
import { AvailabilityListResponse, availableRoom } from './response';

export const roomAvailabilityRoutes: QueryRoutes = (ctx) => async (app) => {
  searchRoute(app, ctx, {
    path: '/rooms/availability',
    model: roomAvailabilityProjection.name,
    tags: ['rooms'],
    summary: 'Rooms free for every night of a stay (not retired, big enough)',
    filters: AvailabilityFilters,
    response: AvailabilityListResponse,
    search: availabilitySearch,
    answer: (page: Page<AvailabilityDocument>, filters) => {
      const nights = stayNights(filters).length;
      return listOf(page, (d) => availableRoom(d, nights));
    },
  });
};
