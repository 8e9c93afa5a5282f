import { NotFoundError } from '@cqrs/core';
import {
  findDocument,
  IdParams,
  listOf,
  queryRoute,
  searchDocuments,
  type QueryRoutes,
} from '@cqrs/search';
import { reservationsProjection, type ReservationDocument } from './projection';
import { ReservationListQuery, reservationSearch } from './query';
import {
  ReservationListResponse,
  ReservationResponse,
  reservationFacets,
  reservationResponse,
} from './response';

const model = reservationsProjection.name;

export const reservationRoutes: QueryRoutes = (ctx) => async (app) => {
  app.get(
    '/reservations/:id',
    queryRoute(
      ctx,
      {
        tags: ['reservations'],
        summary: 'One reservation with its guest and room',
        params: IdParams,
      },
      ReservationResponse,
    ),
    async (request) => {
      const doc = await findDocument<ReservationDocument>(ctx, model, request.params.id);
      // The index also holds the join's customer and room reference documents.
      if (!doc || doc.kind !== 'reservation') {
        throw new NotFoundError(`Reservation ${request.params.id} not found`);
      }
      return reservationResponse(doc);
    },
  );

  app.get(
    '/reservations',
    queryRoute(
      ctx,
      {
        tags: ['reservations'],
        summary: 'Search reservations: free text, filters, facets, cursor paging',
        querystring: ReservationListQuery,
      },
      ReservationListResponse,
    ),
    async (request) => {
      const { size = 20, cursor, ...params } = request.query;
      const page = await searchDocuments<ReservationDocument>(
        ctx,
        model,
        { size, cursor },
        reservationSearch(params),
      );
      return { ...listOf(page, reservationResponse), facets: reservationFacets(page) };
    },
  );
};
