import { NotFoundError } from '@cqrs/core';
import type { HttpServer } from '@cqrs/http';
import { Type, type Static, type TObject, type TProperties, type TSchema } from '@sinclair/typebox';
import { searchPage, type Page, type PageQuery } from '../page';
import { consistencyGate, ConsistencyHeaders } from './consistency-gate';
import type { QueryContext } from './context';
import { Cursor, IdParams, Nullable, Size } from './params';
import { errorResponses } from './problem';

/** What a query route declares of its own; the rest is the same for every query route. */
interface QueryRouteSchema {
  readonly tags: string[];
  readonly summary: string;
  readonly params?: TSchema;
  readonly querystring?: TSchema;
}

/**
 * The options of a query route: the consistency gate in front, its headers, the 200 answer
 * and the problem answers every query route may give.
 */
function queryRoute<S extends QueryRouteSchema, R extends TSchema>(
  ctx: QueryContext,
  schema: S,
  response: R,
) {
  return {
    preHandler: consistencyGate(ctx),
    schema: {
      ...schema,
      headers: ConsistencyHeaders,
      response: { 200: response, ...errorResponses },
    },
  };
}

/** One document of a read model by id, `undefined` when there is none. */
async function findDocument<T>(
  ctx: QueryContext,
  model: string,
  id: string,
): Promise<T | undefined> {
  const res = await ctx.client.get<T>({ index: ctx.names.alias(model), id }, { ignore: [404] });
  return res.found ? res._source : undefined;
}

/** One page of a read model's search: the list `query` defines, from `cursor`, `size` hits. */
function searchDocuments<T>(
  ctx: QueryContext,
  model: string,
  paging: { readonly size: number; readonly cursor?: string | undefined },
  query: PageQuery,
): Promise<Page<T>> {
  return searchPage<T>(ctx.client, {
    index: ctx.names.alias(model),
    size: paging.size,
    ...(paging.cursor ? { cursor: paging.cursor } : {}),
    ...query,
  });
}

/** The answer of a list route: `{ total, hits, ...extra, nextCursor }`. */
export function ListResponse<T extends TSchema, P extends TProperties = Record<never, TSchema>>(
  hit: T,
  extra?: P,
) {
  return Type.Object({
    total: Type.Integer(),
    hits: Type.Array(hit),
    ...(extra ?? ({} as P)),
    nextCursor: Nullable(Type.String()),
  });
}

/** A page of documents as a list route answers it, each hit through the read model's view. */
export function listOf<TDoc, TView>(page: Page<TDoc>, view: (doc: TDoc) => TView) {
  return { total: page.total, hits: page.hits.map(view), nextCursor: page.nextCursor };
}

/**
 * The response schema as Fastify sees it inside the generic routes below: the type of the
 * answer is checked where the route is declared (`view`, `answer` return `Static<R>`).
 */
const answer = (response: TSchema): TSchema => response;

interface RouteOptions<R extends TSchema> {
  /** e.g. `/rooms/:id`, `/rooms`. */
  readonly path: string;
  /** The read model (its projection's name) whose alias the route reads. */
  readonly model: string;
  readonly tags: string[];
  readonly summary: string;
  /** The 200 answer. */
  readonly response: R;
}

export interface DocumentRouteOptions<TDoc, R extends TSchema> extends RouteOptions<R> {
  readonly view: (doc: TDoc) => Static<R>;
  /** The 404 detail, e.g. `Room rm-1 not found`. */
  readonly notFound: (id: string) => string;
  /** Whether the route shows this document (an index may hold others, e.g. a join's references). */
  readonly shows?: (doc: TDoc) => boolean;
}

/** `GET <path>/:id`: one document through its read model's view, else a 404. */
export function documentRoute<TDoc, R extends TSchema>(
  app: HttpServer,
  ctx: QueryContext,
  route: DocumentRouteOptions<TDoc, R>,
): void {
  const { tags, summary } = route;
  app.get(
    route.path,
    queryRoute(ctx, { tags, summary, params: IdParams }, answer(route.response)),
    async (request) => {
      const { id } = request.params;
      const doc = await findDocument<TDoc>(ctx, route.model, id);
      if (!doc || (route.shows && !route.shows(doc))) throw new NotFoundError(route.notFound(id));
      return route.view(doc);
    },
  );
}

export interface SearchRouteOptions<
  F extends TObject,
  TDoc,
  R extends TSchema,
> extends RouteOptions<R> {
  /** The list's own parameters; every list also takes `size` (1-100, default 20) and `cursor`. */
  readonly filters: F;
  /** The Elasticsearch request the parameters stand for (see `PageQuery`). */
  readonly search: (filters: Static<F>) => PageQuery;
  /** The answer to one page, e.g. `listOf(page, view)` plus facets (`filters` as asked). */
  readonly answer: (page: Page<TDoc>, filters: Static<F>) => Static<R>;
}

/** `GET <path>`: a cursor-paged search of a read model. */
export function searchRoute<F extends TObject, TDoc, R extends TSchema>(
  app: HttpServer,
  ctx: QueryContext,
  route: SearchRouteOptions<F, TDoc, R>,
): void {
  const { tags, summary } = route;
  const querystring = Type.Object(
    { ...route.filters.properties, size: Type.Optional(Size), cursor: Type.Optional(Cursor) },
    { additionalProperties: false },
  );
  app.get(
    route.path,
    queryRoute(ctx, { tags, summary, querystring }, answer(route.response)),
    async (request) => {
      const {
        size = 20,
        cursor,
        ...filters
      } = request.query as Static<F> & {
        readonly size?: number;
        readonly cursor?: string;
      };
      const page = await searchDocuments<TDoc>(
        ctx,
        route.model,
        { size, cursor },
        route.search(filters as Static<F>),
      );
      return route.answer(page, filters as Static<F>);
    },
  );
}
