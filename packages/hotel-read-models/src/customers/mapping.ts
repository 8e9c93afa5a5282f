import { Mapping, versionedProperties } from '@cqrs/search';
import type { estypes } from '@elastic/elasticsearch';

export const customersMapping: estypes.MappingTypeMapping = {
  properties: {
    id: Mapping.keyword,
    name: Mapping.textAndKeyword,
    email: Mapping.textAndKeyword,
    phone: Mapping.keyword,
    status: Mapping.keyword,
    registeredAt: Mapping.timestamp,
    updatedAt: Mapping.timestamp,
    ...versionedProperties,
  },
};
