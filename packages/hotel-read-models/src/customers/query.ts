import { Cursor, FreeText, queryFingerprint, Size, type PageQuery } from '@cqrs/search';
import type { estypes } from '@elastic/elasticsearch';
import { Type, type Static } from '@sinclair/typebox';

export const CustomerListQuery = Type.Object(
  { q: Type.Optional(FreeText), size: Type.Optional(Size), cursor: Type.Optional(Cursor) },
  { additionalProperties: false },
);
export type CustomerListQuery = Static<typeof CustomerListQuery>;

/** `GET /customers`: by name or email (best match first), else by name. */
export function customerSearch(params: Pick<CustomerListQuery, 'q'>): PageQuery {
  const q = params.q?.trim() || undefined;
  const query: estypes.QueryDslQueryContainer = q
    ? {
        multi_match: {
          query: q,
          type: 'bool_prefix',
          operator: 'and',
          fields: ['name^2', 'email'],
        },
      }
    : { match_all: {} };
  const sort: estypes.SortCombinations[] = q
    ? [{ _score: { order: 'desc' } }, { id: { order: 'asc' } }]
    : [{ 'name.keyword': { order: 'asc', missing: '\uffff' } }, { id: { order: 'asc' } }];
  return { query, sort, sortName: q ? 'relevance' : 'name', fingerprint: queryFingerprint({ q }) };
}
