import { customersProjection } from './projection';
import { run } from '../testing/projection-harness';
import { registered, renamed, contact } from '../testing/hotel-events';

describe('hotel projections', () => {
  it('customers: folds a customer stream into its current state', () => {
    const doc = run(customersProjection, [registered, renamed, contact]).get('c1');
    expect(doc).toMatchObject({
      name: 'Ada King',
      email: 'ada@king.org',
      phone: null,
      status: 'active',
      version: 3,
    });
  });

  it('customers: a stale or duplicate event changes nothing', () => {
    const docs = run(customersProjection, [registered, contact, renamed]);
    const doc = docs.get('c1')!;
    expect(
      customersProjection.evolve(doc, renamed, { id: 'c1', lookup: () => undefined }),
    ).toBeUndefined();
    expect(
      customersProjection.evolve(doc, registered, { id: 'c1', lookup: () => undefined }),
    ).toBeUndefined();
    expect(doc).toMatchObject({ name: 'Ada King', email: 'ada@king.org', version: 3 });
  });
});
