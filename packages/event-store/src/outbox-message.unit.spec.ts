import type { EventEnvelope } from '@cqrs/core';
import { resultTemplate } from './append';
import { fillPositions, toOutboxMessage, withPositionBetween } from './outbox-message';

const event: EventEnvelope = {
  eventId: '0190a6f0-0000-7000-8000-000000000001',
  streamType: 'reservation',
  streamId: 'r-1',
  version: 2,
  position: '9007199254740993',
  type: 'ReservationConfirmed',
  schemaVersion: 1,
  occurredAt: '2026-11-21T10:00:00.123000Z',
  data: {},
  metadata: { correlationId: 'c-1', causationId: 'req-1', traceparent: '00-abc-def-01' },
};

describe('toOutboxMessage', () => {
  it('routes by stream type and event type, and the body is the event envelope', () => {
    const m = toOutboxMessage(event);
    expect(m.routingKey).toBe('reservation.ReservationConfirmed');
    expect(JSON.parse(m.payload)).toEqual(event);
    expect(Object.keys(JSON.parse(m.payload))).toEqual([
      'eventId',
      'streamType',
      'streamId',
      'version',
      'position',
      'type',
      'schemaVersion',
      'occurredAt',
      'data',
      'metadata',
    ]);
  });

  it('carries the stream, position, correlation, causation and trace headers', () => {
    expect(toOutboxMessage(event).headers).toEqual({
      'stream-type': 'reservation',
      'stream-id': 'r-1',
      'stream-version': 2,
      position: '9007199254740993',
      'correlation-id': 'c-1',
      'causation-id': 'req-1',
      traceparent: '00-abc-def-01',
    });
  });

  it('makes a root event its own correlation and causation, without a traceparent', () => {
    const h = toOutboxMessage({ ...event, metadata: {} }).headers;
    expect(h['correlation-id']).toBe(event.eventId);
    expect(h['causation-id']).toBe(event.eventId);
    expect(h).not.toHaveProperty('traceparent');
  });
});

describe('position templates (positions filled in by SQL)', () => {
  it('give the body JSON.stringify gives the envelope, byte for byte', () => {
    const tricky = {
      ...event,
      data: { name: 'Zoë "the" \\ 🛎', nested: { a: [1, null, true] }, empty: {} },
    };
    expect(toOutboxMessage(tricky).payload).toBe(JSON.stringify(tricky));
  });

  it('fill each hole with the position of its event, also around empty objects', () => {
    const t = withPositionBetween({}, {}, 0);
    expect(fillPositions(t, () => '7')).toBe('{"position":"7"}');
    const result = {
      streamType: 'room',
      streamId: 'r-1',
      version: 3,
      position: '12',
      events: [
        { eventId: 'e1', type: 'A', version: 2, position: '10' },
        { eventId: 'e2', type: 'B', version: 3, position: '12' },
      ],
    };
    const template = resultTemplate('room', 'r-1', result.events);
    expect(fillPositions(template, (i) => result.events[i]!.position)).toBe(JSON.stringify(result));
  });
});
