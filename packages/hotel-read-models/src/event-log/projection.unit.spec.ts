import { eventLogProjection } from './projection';
import { run } from '../testing/projection-harness';
import { registered, renamed } from '../testing/hotel-events';

describe('hotel projections', () => {
  it('events: every event once, a redelivery changes nothing', () => {
    const docs = run(eventLogProjection, [registered, renamed, registered]);
    expect([...docs.keys()]).toEqual([registered.eventId, renamed.eventId]);
    expect(docs.get(renamed.eventId)).toMatchObject({ type: 'CustomerRenamed', version: 2 });
  });
});
