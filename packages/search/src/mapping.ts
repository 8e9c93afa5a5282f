import type { estypes } from '@elastic/elasticsearch';

/** Field mappings the read models share, so each read model's mapping lists only its fields. */
export const Mapping = {
  /** Exact values: ids, statuses, filters and facets. */
  keyword: { type: 'keyword' },
  /** Full text plus an exact keyword for filters, facets and sorting. */
  textAndKeyword: {
    type: 'text',
    fields: { keyword: { type: 'keyword', ignore_above: 256 } },
  },
  text: { type: 'text' },
  integer: { type: 'integer' },
  long: { type: 'long' },
  /** An instant (`occurredAt`, `updatedAt`). */
  timestamp: { type: 'date', format: 'strict_date_optional_time' },
  /** A calendar day `YYYY-MM-DD`. */
  day: { type: 'date', format: 'strict_date' },
  /** Kept in the source, never indexed (payloads that differ per document). */
  unindexed: { type: 'object', enabled: false },
} as const satisfies Record<string, estypes.MappingProperty>;

/** The `version` and `fieldVersions` of a `Versioned` document (see versioned.ts). */
export const versionedProperties = {
  version: Mapping.long,
  /** Per-field stream versions: kept in the source for the projection, never searched. */
  fieldVersions: Mapping.unindexed,
} as const satisfies Record<string, estypes.MappingProperty>;
