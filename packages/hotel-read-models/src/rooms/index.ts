import type { ReadModel } from '@cqrs/search';
import { roomsMapping } from './mapping';
import { roomsProjection, type RoomView } from './projection';
import { roomRoutes } from './routes';

/** `rooms`: one document per room; `GET /rooms/{id}`, `GET /rooms`. */
export const roomsModel: ReadModel<RoomView> = {
  projection: roomsProjection,
  mappings: roomsMapping,
  routes: roomRoutes,
};
