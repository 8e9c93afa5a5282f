export type { QueryContext, QueryRoutes } from './context';
export { elasticsearchErrors } from './elasticsearch-errors';
export { Id, FreeText, Keyword, Day, Nullable, checkDay } from './params';
export { documentRoute, searchRoute, ListResponse, listOf } from './route';
