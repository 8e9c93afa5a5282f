import type { EventEnvelope, ReadModelProjection } from '@cqrs/core';
import { assignNewer, text, type Versioned } from './versioned';

/** The `customers` read model: one document per customer stream. */
export interface CustomerView extends Versioned {
  readonly id: string;
  readonly name: string | null;
  readonly email: string | null;
  readonly phone: string | null;
  readonly status: 'active' | 'deactivated' | null;
  readonly registeredAt: string | null;
  readonly updatedAt: string | null;
}

/** The customer fields each customer event sets (shared with the reservations' join). */
export function customerFields(event: EventEnvelope): Partial<CustomerView> | undefined {
  const d = event.data;
  switch (event.type) {
    case 'CustomerRegistered':
      return {
        name: text(d, 'name'),
        email: text(d, 'email'),
        phone: text(d, 'phone'),
        status: 'active',
        registeredAt: event.occurredAt,
      };
    case 'CustomerRenamed':
      return { name: text(d, 'name') };
    case 'CustomerContactChanged':
      // Only the fields the event carries changed.
      return {
        ...('email' in d ? { email: text(d, 'email') } : {}),
        ...('phone' in d ? { phone: text(d, 'phone') } : {}),
      };
    case 'CustomerDeactivated':
      return { status: 'deactivated' };
    default:
      return undefined;
  }
}

export function emptyCustomer(id: string): CustomerView {
  return {
    id,
    name: null,
    email: null,
    phone: null,
    status: null,
    registeredAt: null,
    updatedAt: null,
    version: 0,
    fieldVersions: {},
  };
}

export const customersProjection: ReadModelProjection<CustomerView> = {
  name: 'customers',
  streamTypes: ['customer'],
  ownStreamType: 'customer',
  targets: (event) =>
    event.streamType === 'customer' && customerFields(event) ? [{ id: event.streamId }] : [],
  evolve(doc, event) {
    const fields = customerFields(event);
    if (!fields) return undefined;
    return assignNewer(doc ?? emptyCustomer(event.streamId), event.version, {
      ...fields,
      updatedAt: event.occurredAt,
    });
  },
};
