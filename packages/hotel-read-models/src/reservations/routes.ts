import { documentRoute, listOf, searchRoute, type Page, type QueryRoutes } from '@cqrs/search';
import { reservationsProjection, type ReservationDocument } from './projection';
import { ReservationFilters, reservationSearch } from './query';
import {
  ReservationListResponse,
  ReservationResponse,
  reservationFacets,
  reservationResponse,
} from './response';

const model = reservationsProjection.name;
const tags = ['reservations'];

export const reservationRoutes: QueryRoutes = (ctx) => async (app) => {
  documentRoute(app, ctx, {
    path: '/reservations/:id',
    model,
    tags,
    summary: 'One reservation with its guest and room',
    response: ReservationResponse,
    view: reservationResponse,
    notFound: (id) => `Reservation ${id} not found`,
    // The index also holds the join's customer and room reference documents.
    shows: (doc: ReservationDocument) => doc.kind === 'reservation',
  });
  searchRoute(app, ctx, {
    path: '/reservations',
    model,
    tags,
    summary: 'Search reservations: free text, filters, facets, cursor paging',
    filters: ReservationFilters,
    response: ReservationListResponse,
    search: reservationSearch,
    answer: (page: Page<ReservationDocument>) => ({
      ...listOf(page, reservationResponse),
      facets: reservationFacets(page),
    }),
  });
};
