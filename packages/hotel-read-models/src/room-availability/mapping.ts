import { Mapping, versionedProperties } from '@cqrs/search';
import type { estypes } from '@elastic/elasticsearch';

export const roomAvailabilityMapping: estypes.MappingTypeMapping = {
  properties: {
    kind: Mapping.keyword,
    id: Mapping.keyword,
    hotel: Mapping.textAndKeyword,
    city: Mapping.textAndKeyword,
    number: Mapping.keyword,
    roomType: Mapping.keyword,
    capacity: Mapping.integer,
    ratePerNight: Mapping.long,
    status: Mapping.keyword,
    updatedAt: Mapping.timestamp,
    holds: Mapping.unindexed,
    reservationIds: Mapping.keyword,
    heldNights: Mapping.keyword,
    ...versionedProperties,
  },
};
