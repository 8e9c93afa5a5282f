import { Mapping, versionedProperties } from '@cqrs/search';
import type { estypes } from '@elastic/elasticsearch';
import { customersMapping } from '../customers/mapping';
import { roomsMapping } from '../rooms/mapping';

/** A joined part: the fields it shows, mapped as their own read model maps them. */
function part(own: estypes.MappingTypeMapping, fields: readonly string[]): estypes.MappingProperty {
  const properties = Object.fromEntries(fields.map((f) => [f, own.properties![f]!]));
  return { properties: { ...properties, ...versionedProperties } };
}

/** The guest part, versioned by the customer stream. */
const guest = part(customersMapping, ['id', 'name', 'email']);
/** The room part, versioned by the room stream. */
const room = part(roomsMapping, ['id', 'hotel', 'city', 'number', 'roomType']);

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
