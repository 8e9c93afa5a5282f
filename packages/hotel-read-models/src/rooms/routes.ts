import { NotFoundError } from '@cqrs/core';
import {
  findDocument,
  IdParams,
  listOf,
  queryRoute,
  searchDocuments,
  type QueryRoutes,
} from '@cqrs/search';
import { roomsProjection, type RoomView } from './projection';
import { RoomListQuery, roomSearch } from './query';
import { RoomListResponse, RoomResponse, roomResponse } from './response';

const model = roomsProjection.name;

export const roomRoutes: QueryRoutes = (ctx) => async (app) => {
  app.get(
    '/rooms/:id',
    queryRoute(ctx, { tags: ['rooms'], summary: 'One room', params: IdParams }, RoomResponse),
    async (request) => {
      const doc = await findDocument<RoomView>(ctx, model, request.params.id);
      if (!doc) throw new NotFoundError(`Room ${request.params.id} not found`);
      return roomResponse(doc);
    },
  );

  app.get(
    '/rooms',
    queryRoute(
      ctx,
      {
        tags: ['rooms'],
        summary: 'Search rooms by hotel, city, number or type',
        querystring: RoomListQuery,
      },
      RoomListResponse,
    ),
    async (request) => {
      const { size = 20, cursor, ...params } = request.query;
      const page = await searchDocuments<RoomView>(
        ctx,
        model,
        { size, cursor },
        roomSearch(params),
      );
      return listOf(page, roomResponse);
    },
  );
};
