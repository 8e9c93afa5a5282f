import { Mapping, versionedProperties } from '@cqrs/search';
import type { estypes } from '@elastic/elasticsearch';

/** The guest part, versioned by the customer stream. */
const guest: estypes.MappingProperty = {
  properties: {
    id: Mapping.keyword,
    name: Mapping.textAndKeyword,
    email: Mapping.textAndKeyword,
    ...versionedProperties,
  },
};

/** The room part, versioned by the room stream. */
const room: estypes.MappingProperty = {
  properties: {
    id: Mapping.keyword,
    hotel: Mapping.textAndKeyword,
    city: Mapping.textAndKeyword,
    number: Mapping.keyword,
    roomType: Mapping.keyword,
    ...versionedProperties,
  },
};

export const reservationsMapping: estypes.MappingTypeMapping = {
  properties: {
    kind: Mapping.keyword,
    id: Mapping.keyword,
    status: Mapping.keyword,
    checkIn: Mapping.day,
    checkOut: Mapping.day,
    nights: Mapping.integer,
    guests: Mapping.integer,
    ratePerNight: Mapping.long,
    totalPrice: Mapping.long,
    cancellationReason: Mapping.text,
    placedAt: Mapping.timestamp,
    updatedAt: Mapping.timestamp,
    customer: guest,
    room,
    ...versionedProperties,
  },
};
