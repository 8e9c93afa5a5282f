import { Mapping, versionedProperties } from '@cqrs/search';
import type { estypes } from '@elastic/elasticsearch';

export const roomsMapping: estypes.MappingTypeMapping = {
  properties: {
    id: Mapping.keyword,
    hotel: Mapping.textAndKeyword,
    city: Mapping.textAndKeyword,
    number: Mapping.keyword,
    roomType: Mapping.keyword,
    capacity: Mapping.integer,
    ratePerNight: Mapping.long,
    status: Mapping.keyword,
    updatedAt: Mapping.timestamp,
    ...versionedProperties,
  },
};
