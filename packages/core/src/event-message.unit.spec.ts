import { ValidationError } from './errors';
import { eventMessageBody, parseEventMessage, routingKeyOf, streamKey } from './event-message';
import type { EventEnvelope } from './messages';

const event: EventEnvelope = {
  eventId: '0190a6f0-0000-7000-8000-000000000001',
  streamType: 'reservation',
  streamId: 'r-1',
  version: 2,
  position: '9007199254740993',
  type: 'ReservationConfirmed',
  schemaVersion: 1,
  occurredAt: '2026-11-21T10:00:00.123000Z',
  data: { note: 'x' },
  metadata: { correlationId: 'c-1' },
};

describe('the event message contract', () => {
  it('parses back what it writes, position kept as a decimal string', () => {
    const wire = Buffer.from(JSON.stringify(eventMessageBody(event)));
    expect(parseEventMessage(wire)).toEqual(event);
  });

  it('refuses a body that is not an event message, naming the fields', () => {
    expect(() => parseEventMessage(Buffer.from('{"eventId":"e"}'))).toThrow(ValidationError);
    expect(() => parseEventMessage(Buffer.from('nope'))).toThrow(/not JSON/);
  });

  it('routes by stream type and event type, orders by stream', () => {
    expect(routingKeyOf('reservation', 'ReservationConfirmed')).toBe(
      'reservation.ReservationConfirmed',
    );
    expect(streamKey(event)).toBe('reservation:r-1');
  });
});
