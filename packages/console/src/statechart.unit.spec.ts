import { hotelAggregates } from '@cqrs/hotel';
import { highlightedStatechart, stateIds } from './statechart';

describe('highlightedStatechart', () => {
  const reservation = hotelAggregates.get('reservation')!;

  it('marks the current state of the generated machine diagram', () => {
    const chart = highlightedStatechart(reservation, 'confirmed');
    expect(chart).toMatch(/^stateDiagram-v2\n/);
    expect(chart).toContain('  pending --> confirmed : ReservationConfirmed\n');
    expect(chart).toMatch(/\n {2}class confirmed current\n$/);
  });

  it('names every level of a nested state value, as the generator names the nodes', () => {
    expect(stateIds({ active: { billing: 'due' } })).toEqual([
      'active',
      'active_billing',
      'active_billing_due',
    ]);
    expect(stateIds(undefined)).toEqual([]);
  });
});
