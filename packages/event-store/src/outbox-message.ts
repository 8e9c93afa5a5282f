import type { EventEnvelope } from '@cqrs/core';

/** An `outbox` row before insert: what the relay publishes, byte for byte. */
export interface OutboxMessage {
  readonly eventId: string;
  readonly eventType: string;
  /** `<streamType>.<EventType>` on the events topic exchange. */
  readonly routingKey: string;
  /** The exact JSON message body (API.md "Event messages"). */
  readonly payload: string;
  /** AMQP headers, stored as a JSON object. */
  readonly headers: Readonly<Record<string, string | number>>;
  readonly occurredAt: string;
}

export function routingKeyOf(streamType: string, eventType: string): string {
  return `${streamType}.${eventType}`;
}

/**
 * The outbox row of one stored event. The body is serialised here, once, so the relay never
 * re-encodes it and every redelivery carries the same bytes. A root event (no correlation or
 * causation id in its metadata) is its own correlation and causation.
 */
export function toOutboxMessage(event: EventEnvelope): OutboxMessage {
  const body = {
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
  const meta = event.metadata;
  const correlationId = typeof meta.correlationId === 'string' ? meta.correlationId : event.eventId;
  const causationId = typeof meta.causationId === 'string' ? meta.causationId : correlationId;
  const headers: Record<string, string | number> = {
    'stream-type': event.streamType,
    'stream-id': event.streamId,
    'stream-version': event.version,
    position: event.position,
    'correlation-id': correlationId,
    'causation-id': causationId,
  };
  if (typeof meta.traceparent === 'string') headers.traceparent = meta.traceparent;
  if (typeof meta.tracestate === 'string') headers.tracestate = meta.tracestate;
  return {
    eventId: event.eventId,
    eventType: event.type,
    routingKey: routingKeyOf(event.streamType, event.type),
    payload: JSON.stringify(body),
    headers,
    occurredAt: event.occurredAt,
  };
}
