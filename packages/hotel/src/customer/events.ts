import type { EventUnion } from '@cqrs/aggregates';
import { Type } from '@sinclair/typebox';

/** The customer's events (schema version 1), as agreed with the read side. */
export const CustomerEvents = {
  CustomerRegistered: Type.Object({
    name: Type.String(),
    email: Type.String(),
    phone: Type.Optional(Type.String()),
  }),
  CustomerRenamed: Type.Object({ name: Type.String() }),
  /** Only the fields that changed. */
  CustomerContactChanged: Type.Object({
    email: Type.Optional(Type.String()),
    phone: Type.Optional(Type.String()),
  }),
  CustomerDeactivated: Type.Object({ reason: Type.Optional(Type.String()) }),
};

export type CustomerEvent = EventUnion<typeof CustomerEvents>;
