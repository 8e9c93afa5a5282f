import type { ReadModel } from '@cqrs/search';
import {
  customersProjection,
  eventLogProjection,
  reservationsProjection,
  roomsProjection,
} from '@cqrs/hotel';
import type { estypes } from '@elastic/elasticsearch';

/** Full text plus an exact keyword for filters, facets and sorting. */
const textAndKeyword: estypes.MappingProperty = {
  type: 'text',
  fields: { keyword: { type: 'keyword', ignore_above: 256 } },
};
const keyword: estypes.MappingProperty = { type: 'keyword' };
const timestamp: estypes.MappingProperty = { type: 'date', format: 'strict_date_optional_time' };
const day: estypes.MappingProperty = { type: 'date', format: 'strict_date' };
/** Per-field stream versions: kept in the source for the projection, never searched. */
const versions: estypes.MappingProperty = { type: 'object', enabled: false };

const guest: estypes.MappingProperty = {
  properties: {
    id: keyword,
    name: textAndKeyword,
    email: textAndKeyword,
    version: { type: 'long' },
    fieldVersions: versions,
  },
};
const roomPart: estypes.MappingProperty = {
  properties: {
    id: keyword,
    hotel: textAndKeyword,
    city: textAndKeyword,
    number: keyword,
    roomType: keyword,
    version: { type: 'long' },
    fieldVersions: versions,
  },
};

export const reservationsModel: ReadModel = {
  projection: reservationsProjection,
  mappings: {
    properties: {
      kind: keyword,
      id: keyword,
      status: keyword,
      checkIn: day,
      checkOut: day,
      nights: { type: 'integer' },
      guests: { type: 'integer' },
      ratePerNight: { type: 'long' },
      totalPrice: { type: 'long' },
      cancellationReason: { type: 'text' },
      placedAt: timestamp,
      updatedAt: timestamp,
      customer: guest,
      room: roomPart,
      version: { type: 'long' },
      fieldVersions: versions,
    },
  },
};

export const customersModel: ReadModel = {
  projection: customersProjection,
  mappings: {
    properties: {
      id: keyword,
      name: textAndKeyword,
      email: textAndKeyword,
      phone: keyword,
      status: keyword,
      registeredAt: timestamp,
      updatedAt: timestamp,
      version: { type: 'long' },
      fieldVersions: versions,
    },
  },
};

export const roomsModel: ReadModel = {
  projection: roomsProjection,
  mappings: {
    properties: {
      id: keyword,
      hotel: textAndKeyword,
      city: textAndKeyword,
      number: keyword,
      roomType: keyword,
      capacity: { type: 'integer' },
      ratePerNight: { type: 'long' },
      status: keyword,
      updatedAt: timestamp,
      version: { type: 'long' },
      fieldVersions: versions,
    },
  },
};

export const eventsModel: ReadModel = {
  projection: eventLogProjection,
  mappings: {
    properties: {
      eventId: keyword,
      streamType: keyword,
      streamId: keyword,
      version: { type: 'long' },
      position: { type: 'long' },
      type: keyword,
      schemaVersion: { type: 'integer' },
      occurredAt: timestamp,
      // Event payloads differ per type: kept whole in the source, not indexed.
      data: { type: 'object', enabled: false },
      metadata: {
        type: 'object',
        dynamic: false,
        properties: { correlationId: keyword, causationId: keyword, actor: keyword },
      },
    },
  },
};

/** Every read model of the query service, by name. */
export const readModels: readonly ReadModel[] = [
  eventsModel,
  customersModel,
  roomsModel,
  reservationsModel,
];
