import { assign, setup } from 'xstate';
import type { CustomerEvent } from './events';

export interface CustomerContext {
  readonly name: string;
  readonly email: string;
  readonly phone?: string;
  readonly deactivationReason?: string;
}

/** nonexistent -> active -> deactivated. A deactivated customer accepts nothing more. */
export const customerMachine = setup({
  types: {
    context: {} as CustomerContext,
    events: {} as CustomerEvent,
  },
  guards: {
    changesSomeContact: ({ event }) =>
      event.type === 'CustomerContactChanged' &&
      (event.data.email !== undefined || event.data.phone !== undefined),
  },
  actions: {
    recordRegistration: assign(({ event }) =>
      event.type === 'CustomerRegistered' ? { ...event.data } : {},
    ),
    recordName: assign(({ event }) =>
      event.type === 'CustomerRenamed' ? { name: event.data.name } : {},
    ),
    recordContact: assign(({ event }) =>
      event.type === 'CustomerContactChanged' ? { ...event.data } : {},
    ),
    recordDeactivation: assign(({ event }) =>
      event.type === 'CustomerDeactivated' && event.data.reason !== undefined
        ? { deactivationReason: event.data.reason }
        : {},
    ),
  },
}).createMachine({
  id: 'customer',
  context: { name: '', email: '' },
  initial: 'nonexistent',
  states: {
    nonexistent: {
      on: { CustomerRegistered: { target: 'active', actions: 'recordRegistration' } },
    },
    active: {
      on: {
        CustomerRenamed: { actions: 'recordName' },
        CustomerContactChanged: { guard: 'changesSomeContact', actions: 'recordContact' },
        CustomerDeactivated: { target: 'deactivated', actions: 'recordDeactivation' },
      },
    },
    deactivated: { type: 'final' },
  },
});
