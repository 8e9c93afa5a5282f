import type { TSchema, TProperties } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import { searchPage, type Page, type PageQuery } from '../page';
import { consistencyGate, ConsistencyHeaders } from './consistency-gate';
import type { QueryContext } from './context';
import { Nullable } from './params';
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
export function queryRoute<S extends QueryRouteSchema, R extends TSchema>(
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
export async function findDocument<T>(
  ctx: QueryContext,
  model: string,
  id: string,
): Promise<T | undefined> {
  const res = await ctx.client.get<T>({ index: ctx.names.alias(model), id }, { ignore: [404] });
  return res.found ? res._source : undefined;
}

/** One page of a read model's search: the list `query` defines, from `cursor`, `size` hits. */
export function searchDocuments<T>(
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
