import { documentRoute, listOf, searchRoute, type Page, type QueryRoutes } from '@cqrs/search';
import { roomsProjection, type RoomView } from './projection';
import { RoomFilters, roomSearch } from './query';
import { RoomListResponse, RoomResponse, roomResponse } from './response';

const model = roomsProjection.name;
const tags = ['rooms'];

export const roomRoutes: QueryRoutes = (ctx) => async (app) => {
  documentRoute(app, ctx, {
    path: '/rooms/:id',
    model,
    tags,
    summary: 'One room',
    response: RoomResponse,
    view: roomResponse,
    notFound: (id) => `Room ${id} not found`,
  });
  searchRoute(app, ctx, {
    path: '/rooms',
    model,
    tags,
    summary: 'Search rooms by hotel, city, number or type',
    filters: RoomFilters,
    response: RoomListResponse,
    search: roomSearch,
    answer: (page: Page<RoomView>) => listOf(page, roomResponse),
  });
};
