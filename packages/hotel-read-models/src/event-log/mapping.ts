import { Mapping } from '@cqrs/search';
import type { estypes } from '@elastic/elasticsearch';

export const eventLogMapping: estypes.MappingTypeMapping = {
  properties: {
    eventId: Mapping.keyword,
    streamType: Mapping.keyword,
    streamId: Mapping.keyword,
    version: Mapping.long,
    position: Mapping.long,
    type: Mapping.keyword,
    schemaVersion: Mapping.integer,
    occurredAt: Mapping.timestamp,
    // Event payloads differ per type: kept whole in the source, not indexed.
    data: Mapping.unindexed,
    metadata: {
      type: 'object',
      dynamic: false,
      properties: {
        correlationId: Mapping.keyword,
        causationId: Mapping.keyword,
        actor: Mapping.keyword,
      },
    },
  },
};
