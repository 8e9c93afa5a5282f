import {
  byKeyword,
  byRelevance,
  FreeText,
  freeText,
  queryFingerprint,
  searchText,
  type PageQuery,
} from '@cqrs/search';
import { Type, type Static } from '@sinclair/typebox';

/** The parameters of `GET /customers` (besides `size` and `cursor`). */
export const CustomerFilters = Type.Object({ q: Type.Optional(FreeText) });
export type CustomerFilters = Static<typeof CustomerFilters>;

/** `GET /customers`: by name or email (best match first), else by name. */
export function customerSearch(filters: CustomerFilters): PageQuery {
  const q = searchText(filters.q);
  return {
    query: q ? freeText(q, ['name^2', 'email']) : { match_all: {} },
    sort: q ? byRelevance() : byKeyword('name.keyword'),
    sortName: q ? 'relevance' : 'name',
    fingerprint: queryFingerprint({ q }),
  };
}
