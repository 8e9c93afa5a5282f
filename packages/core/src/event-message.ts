import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ValidationError } from './errors';
import type { EventEnvelope } from './messages';

/**
 * The event message of docs/api.md "Event messages", in one place: the event store writes it
 * into the outbox, the relay publishes it, the projector parses it, the test and benchmark
 * seeders build it - all through this file.
 */

/** The JSON body: the event envelope, in this field order on the wire. */
export const EventMessageBody = Type.Object({
  eventId: Type.String({ minLength: 1, maxLength: 64 }),
  streamType: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]{0,63}$' }),
  streamId: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
  version: Type.Integer({ minimum: 1 }),
  position: Type.Union([Type.String({ pattern: '^[0-9]{1,20}$' }), Type.Integer({ minimum: 0 })]),
  type: Type.String({ minLength: 1, maxLength: 128 }),
  schemaVersion: Type.Integer({ minimum: 1 }),
  occurredAt: Type.String({
    pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z$',
  }),
  data: Type.Record(Type.String(), Type.Unknown()),
  metadata: Type.Record(Type.String(), Type.Unknown()),
});
export type EventMessageBody = Static<typeof EventMessageBody>;

/**
 * The message headers. Stream type and id are required: the relay keeps each stream's
 * messages in order by them.
 */
export const EventMessageHeaders = Type.Object(
  {
    'stream-type': Type.String({ minLength: 1 }),
    'stream-id': Type.String({ minLength: 1 }),
    'stream-version': Type.Union([Type.Integer(), Type.String()]),
    position: Type.Union([Type.Integer(), Type.String()]),
    'correlation-id': Type.Optional(Type.String()),
    'causation-id': Type.Optional(Type.String()),
    traceparent: Type.Optional(Type.String()),
  },
  { additionalProperties: Type.Union([Type.String(), Type.Number(), Type.Boolean()]) },
);
export type EventMessageHeaders = Static<typeof EventMessageHeaders>;

/** The message properties besides the headers (AMQP's names; `timestamp` in seconds). */
export interface EventMessageProperties {
  readonly persistent: true;
  readonly contentType: 'application/json';
  /** The event id: the same on every redelivery, so consumers deduplicate by it. */
  readonly messageId: string;
  /** The event type. */
  readonly type: string;
  readonly timestamp: number;
}

/** `<streamType>.<EventType>` on the events topic exchange. */
export function routingKeyOf(streamType: string, eventType: string): string {
  return `${streamType}.${eventType}`;
}

/** `<streamType>:<streamId>`: what must stay in order, and what consistency tokens name. */
export function streamKey(s: { readonly streamType: string; readonly streamId: string }): string {
  return `${s.streamType}:${s.streamId}`;
}

/** The body of an event's message; `JSON.stringify` of it is the exact wire text. */
export function eventMessageBody(event: EventEnvelope): EventMessageBody {
  return {
    eventId: event.eventId,
    streamType: event.streamType,
    streamId: event.streamId,
    version: event.version,
    position: event.position,
    type: event.type,
    schemaVersion: event.schemaVersion,
    occurredAt: event.occurredAt,
    data: event.data,
    metadata: event.metadata,
  };
}

/**
 * The headers of an event's message. A root event (no correlation or causation id in its
 * metadata) is its own correlation and causation.
 */
export function eventMessageHeaders(event: EventEnvelope): EventMessageHeaders {
  const meta = event.metadata;
  const correlationId = typeof meta.correlationId === 'string' ? meta.correlationId : event.eventId;
  const causationId = typeof meta.causationId === 'string' ? meta.causationId : correlationId;
  const trace: Record<string, string> = {};
  if (typeof meta.traceparent === 'string') trace.traceparent = meta.traceparent;
  if (typeof meta.tracestate === 'string') trace.tracestate = meta.tracestate;
  return {
    'stream-type': event.streamType,
    'stream-id': event.streamId,
    'stream-version': event.version,
    position: event.position,
    'correlation-id': correlationId,
    'causation-id': causationId,
    ...trace,
  };
}

/** The properties of an event's message (`occurredAtMs`: epoch milliseconds). */
export function eventMessageProperties(event: {
  readonly eventId: string;
  readonly type: string;
  readonly occurredAtMs: number;
}): EventMessageProperties {
  return {
    persistent: true,
    contentType: 'application/json',
    messageId: event.eventId,
    type: event.type,
    timestamp: Math.floor(event.occurredAtMs / 1000),
  };
}

// Compiled once: every message a relay publishes or a projector consumes is checked.
const bodyCheck = TypeCompiler.Compile(EventMessageBody);
const headersCheck = TypeCompiler.Compile(EventMessageHeaders);

/** Parses a message body into an envelope; a ValidationError (dead-lettered at once) otherwise. */
export function parseEventMessage(content: Buffer): EventEnvelope {
  let body: unknown;
  try {
    body = JSON.parse(content.toString('utf8'));
  } catch {
    throw new ValidationError('message body is not JSON');
  }
  if (!bodyCheck.Check(body)) {
    const problems = [...bodyCheck.Errors(body)].slice(0, 5).map((e) => ({
      path: e.path || '/',
      message: e.message,
    }));
    throw new ValidationError(
      `not an event message: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
      problems,
    );
  }
  // The parsed body is the envelope (no copy): only a numeric position becomes its string.
  if (typeof body.position !== 'string') body.position = String(body.position);
  return body as EventEnvelope;
}

/** Checks headers against the contract; a ValidationError prefixed with `where` otherwise. */
export function parseEventMessageHeaders(headers: unknown, where: string): EventMessageHeaders {
  if (!headersCheck.Check(headers)) {
    const problems = [...headersCheck.Errors(headers)].map((e) => ({
      path: e.path,
      message: e.message,
    }));
    throw new ValidationError(`${where}: malformed headers`, problems);
  }
  return headers;
}
