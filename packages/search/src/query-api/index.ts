export type { QueryContext, QueryRoutes } from './context';
export {
  consistencyGate,
  ConsistencyHeaders,
  DEFAULT_WAIT_MS,
  MAX_WAIT_MS,
} from './consistency-gate';
export { elasticsearchErrors } from './elasticsearch-errors';
export { Problem, errorResponses } from './problem';
export { Id, IdParams, Size, Cursor, FreeText, Keyword, Day, Nullable, checkDay } from './params';
export {
  documentRoute,
  searchRoute,
  queryRoute,
  findDocument,
  searchDocuments,
  ListResponse,
  listOf,
  type DocumentRouteOptions,
  type SearchRouteOptions,
} from './route';
