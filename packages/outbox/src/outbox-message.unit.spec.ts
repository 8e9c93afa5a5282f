import { ValidationError } from '@cqrs/core';
import { toOutgoingMessage, type OutboxRow } from './outbox-message';

const row = (over: Partial<OutboxRow> = {}): OutboxRow => ({
  id: '7',
  event_id: '0190-e1',
  event_type: 'ReservationConfirmed',
  routing_key: 'reservation.ReservationConfirmed',
  payload: '{"eventId":"0190-e1","version":2}',
  headers: JSON.stringify({
    'stream-type': 'reservation',
    'stream-id': 'r-1',
    'stream-version': 2,
    position: '1234',
    'correlation-id': 'c-1',
    'causation-id': 'c-1',
  }),
  occurred_at: '2026-11-21 10:00:01.123456',
  age_us: 1500,
  ...over,
});

describe('toOutgoingMessage', () => {
  it('publishes the stored payload byte for byte with the properties of the contract', () => {
    const m = toOutgoingMessage(row());
    expect(m.routingKey).toBe('reservation.ReservationConfirmed');
    expect(m.content.toString('utf8')).toBe('{"eventId":"0190-e1","version":2}');
    expect(m.options).toEqual({
      persistent: true,
      contentType: 'application/json',
      messageId: '0190-e1',
      type: 'ReservationConfirmed',
      timestamp: Date.UTC(2026, 10, 21, 10, 0, 1) / 1000,
      headers: expect.objectContaining({ 'stream-id': 'r-1', position: '1234' }),
    });
    expect(m.streamKey).toBe('reservation:r-1');
  });

  it('accepts headers already parsed by the driver (MySQL 8 JSON columns)', () => {
    const parsed = JSON.parse(row().headers as string) as unknown;
    expect(toOutgoingMessage(row({ headers: parsed })).streamKey).toBe('reservation:r-1');
  });

  it('refuses a row without its stream headers instead of guessing', () => {
    expect(() => toOutgoingMessage(row({ headers: '{"position":"1"}' }))).toThrow(ValidationError);
    expect(() => toOutgoingMessage(row({ headers: 'not json' }))).toThrow(/not JSON/);
  });
});
