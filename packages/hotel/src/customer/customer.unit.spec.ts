import { aggregateTest } from '@cqrs/aggregates/testing';
import { NotFoundError } from '@cqrs/core';
import { customer } from './customer';

const { given } = aggregateTest(customer, { aggregateId: 'c-1' });

const registered = {
  type: 'CustomerRegistered',
  data: { name: 'Ada Lovelace', email: 'ada@example.com' },
};
const deactivated = { type: 'CustomerDeactivated', data: {} };

describe('customer', () => {
  describe('RegisterCustomer', () => {
    it('registers a new customer', async () => {
      const state = await given([])
        .when({
          type: 'RegisterCustomer',
          data: { name: 'Ada Lovelace', email: 'ada@example.com' },
        })
        .then([registered]);
      expect(state.value).toBe('active');
    });

    it('keeps an optional phone', async () => {
      const data = { name: 'Ada', email: 'ada@example.com', phone: '+44 20 7946 0000' };
      await given([])
        .when({ type: 'RegisterCustomer', data })
        .then([{ type: 'CustomerRegistered', data }]);
    });

    it.each([
      ['active', [registered]],
      ['deactivated', [registered, deactivated]],
    ])('is refused when the customer is already %s', async (state, history) => {
      await given(history)
        .when({ type: 'RegisterCustomer', data: { name: 'Ada', email: 'ada@example.com' } })
        .thenRejects({ state, rule: 'lifecycle' });
    });

    it.each([
      ['an invalid email', { name: 'Ada', email: 'ada.example.com' }, 'data/email'],
      ['an email with a space', { name: 'Ada', email: 'ada @example.com' }, 'data/email'],
      ['an empty name', { name: '', email: 'a@b.co' }, 'data/name'],
      ['a blank name', { name: '   ', email: 'a@b.co' }, 'data/name'],
      ['a name over 200 characters', { name: 'x'.repeat(201), email: 'a@b.co' }, 'data/name'],
      ['a missing email', { name: 'Ada' }, 'data/email'],
      ['an unknown field', { name: 'Ada', email: 'a@b.co', vip: true }, 'data/vip'],
      ['a phone of the wrong type', { name: 'Ada', email: 'a@b.co', phone: 123 }, 'data/phone'],
    ])('rejects %s (400)', async (_what, data, field) => {
      await given([]).when({ type: 'RegisterCustomer', data }).thenInvalid([field]);
    });

    it('accepts a name of exactly 200 characters', async () => {
      const data = { name: 'x'.repeat(200), email: 'a@b.co' };
      await given([])
        .when({ type: 'RegisterCustomer', data })
        .then([{ type: 'CustomerRegistered', data }]);
    });
  });

  describe('RenameCustomer', () => {
    it('renames an active customer', async () => {
      const state = await given([registered])
        .when({ type: 'RenameCustomer', data: { name: 'Ada King' } })
        .then([{ type: 'CustomerRenamed', data: { name: 'Ada King' } }]);
      expect(state.context.name).toBe('Ada King');
    });

    it.each([
      ['nonexistent', []],
      ['deactivated', [registered, deactivated]],
    ])('is refused when the customer is %s', async (state, history) => {
      await given(history)
        .when({ type: 'RenameCustomer', data: { name: 'Ada King' } })
        .thenRejects({ state, rule: 'lifecycle' });
    });

    it('rejects an invalid name (400)', async () => {
      await given([registered])
        .when({ type: 'RenameCustomer', data: { name: '' } })
        .thenInvalid(['data/name']);
    });
  });

  describe('ChangeCustomerContact', () => {
    it('records only the fields given', async () => {
      const state = await given([registered])
        .when({ type: 'ChangeCustomerContact', data: { phone: '555-0100' } })
        .then([{ type: 'CustomerContactChanged', data: { phone: '555-0100' } }]);
      expect(state.context).toMatchObject({ email: 'ada@example.com', phone: '555-0100' });
    });

    it('changes email and phone together', async () => {
      const data = { email: 'ada@king.org', phone: '555-0100' };
      await given([registered])
        .when({ type: 'ChangeCustomerContact', data })
        .then([{ type: 'CustomerContactChanged', data }]);
    });

    it('needs at least one field (400)', async () => {
      await given([registered])
        .when({ type: 'ChangeCustomerContact', data: {} })
        .thenInvalid(['data']);
    });

    it('rejects an invalid email (400)', async () => {
      await given([registered])
        .when({ type: 'ChangeCustomerContact', data: { email: 'nope' } })
        .thenInvalid(['data/email']);
    });

    it.each([
      ['nonexistent', []],
      ['deactivated', [registered, deactivated]],
    ])('is refused when the customer is %s', async (state, history) => {
      await given(history)
        .when({ type: 'ChangeCustomerContact', data: { email: 'ada@king.org' } })
        .thenRejects({ state, rule: 'lifecycle' });
    });
  });

  describe('DeactivateCustomer', () => {
    it('deactivates an active customer, with a reason', async () => {
      const state = await given([registered])
        .when({ type: 'DeactivateCustomer', data: { reason: 'asked to' } })
        .then([{ type: 'CustomerDeactivated', data: { reason: 'asked to' } }]);
      expect(state.value).toBe('deactivated');
    });

    it('deactivates without a reason', async () => {
      await given([registered]).when({ type: 'DeactivateCustomer', data: {} }).then([deactivated]);
    });

    it.each([
      ['nonexistent', []],
      ['deactivated', [registered, deactivated]],
    ])('is refused when the customer is %s', async (state, history) => {
      await given(history)
        .when({ type: 'DeactivateCustomer', data: {} })
        .thenRejects({ state, rule: 'lifecycle' });
    });
  });

  it('answers an unknown command with 404', async () => {
    await given([]).when({ type: 'DeleteCustomer', data: {} }).thenThrows(NotFoundError);
  });
});
