import {
  eventMessageBody,
  eventMessageHeaders,
  routingKeyOf,
  type EventEnvelope,
} from '@cqrs/core';

/** An `outbox` row before insert: what the relay publishes, byte for byte. */
export interface OutboxMessage {
  readonly eventId: string;
  readonly eventType: string;
  readonly routingKey: string;
  /** The exact JSON message body (`@cqrs/core` event-message.ts). */
  readonly payload: string;
  /** AMQP headers, stored as a JSON object. */
  readonly headers: Readonly<Record<string, string | number>>;
  readonly occurredAt: string;
}

/**
 * JSON text with holes where a position goes: `parts[0] hole parts[1] hole ... parts[n]`,
 * each hole the position (a decimal string) of the event `holes[i]` of an append. The append
 * fills the holes in SQL, from the events INSERT's auto-increment value, so the outbox rows
 * (and the idempotency result) travel in the same round trip as the events themselves.
 */
export interface PositionTemplate {
  readonly parts: readonly string[];
  /** Index of the appended event whose position fills each hole. */
  readonly holes: readonly number[];
}

/** Fills a template's holes: `positionOf(i)` is the position of the append's event i. */
export function fillPositions(
  template: PositionTemplate,
  positionOf: (event: number) => string,
): string {
  let text = template.parts[0]!;
  for (let i = 0; i < template.holes.length; i++) {
    text += positionOf(template.holes[i]!) + template.parts[i + 1]!;
  }
  return text;
}

/**
 * `JSON.stringify({ ...before, position: <hole>, ...after })` as a template: the position is
 * a JSON string, as everywhere in messages.
 */
export function withPositionBetween(
  before: object,
  after: object,
  event: number,
): PositionTemplate {
  const head = JSON.stringify(before);
  const tail = JSON.stringify(after);
  return {
    parts: [
      `${head.slice(0, -1)}${head.length > 2 ? ',' : ''}"position":"`,
      `"${tail.length > 2 ? ',' : ''}${tail.slice(1)}`,
    ],
    holes: [event],
  };
}

/** An event about to be stored: everything of its envelope but the position. */
export type UnpositionedEvent = Omit<EventEnvelope, 'position'>;

/** The outbox row of an event whose position is not known yet (see PositionTemplate). */
export interface OutboxTemplate {
  readonly eventId: string;
  readonly eventType: string;
  readonly routingKey: string;
  readonly payload: PositionTemplate;
  readonly headers: PositionTemplate;
  readonly occurredAt: string;
}

/**
 * The outbox row of one event, the `index`-th of its append: the message of the contract
 * (`@cqrs/core` event-message.ts) with a hole where its position goes. The body is
 * serialised here, once, so the relay never re-encodes it and every redelivery carries the
 * same bytes.
 */
export function outboxTemplate(event: UnpositionedEvent, index: number): OutboxTemplate {
  // Spelled out, not `{ ...event, position: '' }`: the spread cost ~6 us per event, most of
  // the template's time (R1@c1). The position's place is what the template keeps.
  const envelope: EventEnvelope = {
    eventId: event.eventId,
    streamType: event.streamType,
    streamId: event.streamId,
    version: event.version,
    position: '',
    type: event.type,
    schemaVersion: event.schemaVersion,
    occurredAt: event.occurredAt,
    data: event.data,
    metadata: event.metadata,
  };
  return {
    eventId: event.eventId,
    eventType: event.type,
    routingKey: routingKeyOf(event.streamType, event.type),
    payload: aroundPosition(eventMessageBody(envelope), index),
    headers: aroundPosition(eventMessageHeaders(envelope), index),
    occurredAt: event.occurredAt,
  };
}

/**
 * `JSON.stringify(message)` as a template whose hole is the position (`''` in `message`):
 * the text up to its value's opening quote and from its closing quote on. One stringify,
 * split at the member: an unescaped `,"` cannot occur inside a JSON string, and the members
 * before `position` are flat, so the first `,"position":""` is the member itself.
 */
function aroundPosition(
  message: Readonly<Record<string, unknown>>,
  event: number,
): PositionTemplate {
  const text = JSON.stringify(message);
  const at = text.indexOf(POSITION_MEMBER);
  if (at < 0) throw new Error('the message has no position member after its first');
  const hole = at + POSITION_MEMBER.length - 1;
  return { parts: [text.slice(0, hole), text.slice(hole)], holes: [event] };
}

const POSITION_MEMBER = ',"position":""';

/** The outbox row of one stored event (what the append writes for it). */
export function toOutboxMessage(event: EventEnvelope): OutboxMessage {
  const { position, ...rest } = event;
  const row = outboxTemplate(rest, 0);
  return {
    eventId: row.eventId,
    eventType: row.eventType,
    routingKey: row.routingKey,
    payload: fillPositions(row.payload, () => position),
    headers: JSON.parse(fillPositions(row.headers, () => position)) as Record<
      string,
      string | number
    >,
    occurredAt: row.occurredAt,
  };
}
