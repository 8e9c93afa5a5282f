import { Mapping } from '@cqrs/search';
import type { estypes } from '@elastic/elasticsearch';
import { roomsMapping } from '../rooms/mapping';

/** A room's fields as `rooms` maps them, with its holds and the nights they hold. */
export const roomAvailabilityMapping: estypes.MappingTypeMapping = {
  properties: {
    kind: Mapping.keyword,
    ...roomsMapping.properties,
    holds: Mapping.unindexed,
    reservationIds: Mapping.keyword,
    heldNights: Mapping.keyword,
  },
};
