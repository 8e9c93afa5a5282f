import type { estypes } from '@elastic/elasticsearch';

/** The free text of a `q` parameter: trimmed, `undefined` when blank. */
export function searchText(q: string | undefined): string | undefined {
  return q?.trim() || undefined;
}

/**
 * Free text over `fields` (boosts as `name^2`), every word required and the last a prefix,
 * so "ada lov" finds "Ada Lovelace". The `match` family analyses the text; it is never
 * parsed as query syntax.
 */
export function freeText(q: string, fields: string[]): estypes.QueryDslQueryContainer {
  return { multi_match: { query: q, type: 'bool_prefix', operator: 'and', fields } };
}

/** Best match first; the `id` tiebreaker keeps `search_after` from skipping or repeating. */
export function byRelevance(): estypes.SortCombinations[] {
  return [{ _score: { order: 'desc' } }, { id: { order: 'asc' } }];
}

/** Ascending by a keyword, documents without one last, then by `id`. */
export function byKeyword(field: string): estypes.SortCombinations[] {
  return [{ [field]: { order: 'asc', missing: '\uffff' } }, { id: { order: 'asc' } }];
}
