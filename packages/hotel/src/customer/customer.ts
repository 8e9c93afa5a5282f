import { commandsFor, defineAggregate } from '@cqrs/aggregates';
import { Type } from '@sinclair/typebox';
import { Email, PersonName, Phone, Reason } from '../shared/fields';
import { CustomerEvents } from './events';
import { customerMachine } from './machine';

/** Payload schemas of the customer's commands (also what the OpenAPI document shows). */
export const CustomerCommands = {
  RegisterCustomer: Type.Object(
    { name: PersonName, email: Email, phone: Type.Optional(Phone) },
    { additionalProperties: false },
  ),
  RenameCustomer: Type.Object({ name: PersonName }, { additionalProperties: false }),
  ChangeCustomerContact: Type.Object(
    { email: Type.Optional(Email), phone: Type.Optional(Phone) },
    { additionalProperties: false, minProperties: 1, description: 'email, phone or both' },
  ),
  DeactivateCustomer: Type.Object(
    { reason: Type.Optional(Reason) },
    { additionalProperties: false },
  ),
};

const command = commandsFor(customerMachine);

/**
 * Lifecycle rules (registered once; a deactivated customer cannot be renamed or change
 * contact) live in the machine; these handlers only shape the events.
 */
export const customer = defineAggregate({
  type: 'customer',
  machine: customerMachine,
  events: CustomerEvents,
  commands: {
    RegisterCustomer: command(CustomerCommands.RegisterCustomer, {
      decide: (_state, { data }) => ({ type: 'CustomerRegistered', data }),
    }),
    RenameCustomer: command(CustomerCommands.RenameCustomer, {
      decide: (_state, { data }) => ({ type: 'CustomerRenamed', data: { name: data.name } }),
    }),
    ChangeCustomerContact: command(CustomerCommands.ChangeCustomerContact, {
      decide: (_state, { data }) => ({ type: 'CustomerContactChanged', data }),
    }),
    DeactivateCustomer: command(CustomerCommands.DeactivateCustomer, {
      decide: (_state, { data }) => ({ type: 'CustomerDeactivated', data }),
    }),
  },
});
