import type { Versioned } from '@cqrs/search';
import { isCustomerEvent, type CustomerEnvelope } from '../hotel-event';
import { streamDocuments } from '../stream-document';

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
export function customerFields(event: CustomerEnvelope): Partial<CustomerView> {
  switch (event.type) {
    case 'CustomerRegistered':
      return {
        name: event.data.name,
        email: event.data.email,
        phone: event.data.phone ?? null,
        status: 'active',
        registeredAt: event.occurredAt,
      };
    case 'CustomerRenamed':
      return { name: event.data.name };
    case 'CustomerContactChanged':
      // Only the fields the event carries changed.
      return {
        ...(event.data.email !== undefined ? { email: event.data.email } : {}),
        ...(event.data.phone !== undefined ? { phone: event.data.phone } : {}),
      };
    case 'CustomerDeactivated':
      return { status: 'deactivated' };
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

export const customersProjection = streamDocuments({
  name: 'customers',
  streamType: 'customer',
  isEvent: isCustomerEvent,
  empty: emptyCustomer,
  fields: customerFields,
});
