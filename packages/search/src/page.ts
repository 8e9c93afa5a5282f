import type { Client, estypes } from '@elastic/elasticsearch';
import { decodeCursor, encodeCursor, type SortValue } from './cursor';

export interface PageRequest {
  readonly index: string;
  readonly query: estypes.QueryDslQueryContainer;
  /** The sort clauses, ending with a unique tiebreaker so `search_after` never skips or repeats. */
  readonly sort: estypes.SortCombinations[];
  /** The name of the sort the client asked for (part of the cursor). */
  readonly sortName: string;
  /** From `queryFingerprint` of the parameters defining the list. */
  readonly fingerprint: string;
  readonly size: number;
  readonly cursor?: string;
  readonly aggs?: Record<string, estypes.AggregationsAggregationContainer>;
}

export interface Page<T> {
  readonly total: number;
  readonly hits: T[];
  readonly nextCursor: string | null;
  readonly aggregations?: Record<string, estypes.AggregationsAggregate>;
}

/**
 * One page of a search with an opaque cursor over `search_after`. Asks for one hit more
 * than the page so the last page has `nextCursor: null` instead of leading to an empty one.
 */
export async function searchPage<T>(client: Client, req: PageRequest): Promise<Page<T>> {
  const after = req.cursor ? decodeCursor(req.cursor, req.sortName, req.fingerprint) : undefined;
  const res = await client.search<T>({
    index: req.index,
    query: req.query,
    sort: req.sort,
    size: req.size + 1,
    track_total_hits: true,
    ...(after ? { search_after: after as estypes.SortResults } : {}),
    ...(req.aggs ? { aggs: req.aggs } : {}),
  });
  const hits = res.hits.hits.slice(0, req.size);
  const more = res.hits.hits.length > req.size;
  const last = hits.at(-1);
  const total = typeof res.hits.total === 'number' ? res.hits.total : (res.hits.total?.value ?? 0);
  return {
    total,
    hits: hits.map((h) => h._source as T),
    nextCursor:
      more && last?.sort
        ? encodeCursor(req.sortName, req.fingerprint, last.sort as SortValue[])
        : null,
    ...(res.aggregations ? { aggregations: res.aggregations } : {}),
  };
}

/** `{ value: count }` from a terms aggregation. */
export function termsFacet(agg: estypes.AggregationsAggregate | undefined): Record<string, number> {
  const buckets = (agg as estypes.AggregationsStringTermsAggregate | undefined)?.buckets;
  const out: Record<string, number> = {};
  if (Array.isArray(buckets)) for (const b of buckets) out[String(b.key)] = b.doc_count;
  return out;
}

/** What defines a result list, apart from where it is stored and how much of it to fetch. */
export type PageQuery = Omit<PageRequest, 'index' | 'size' | 'cursor'>;
