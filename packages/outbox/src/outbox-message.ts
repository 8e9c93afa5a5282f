import { ValidationError } from '@cqrs/core';
import { parseJsonColumn } from '@cqrs/event-store';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Options } from 'amqplib';

/** An unpublished `outbox` row as the relay selects it. */
export interface OutboxRow {
  readonly id: string;
  readonly event_id: string;
  readonly event_type: string;
  readonly routing_key: string;
  readonly payload: string;
  readonly headers: unknown;
  /** `YYYY-MM-DD HH:MM:SS.ffffff`, UTC. */
  readonly occurred_at: string;
  /** Microseconds between the row's insert and the SELECT that fetched it (database clock). */
  readonly age_us: string | number | null;
}

/**
 * The AMQP headers of an event message (docs/api.md "Event messages"). Stream type and id are
 * required: the relay keeps each stream's messages in order by them.
 */
export const OutboxHeaders = Type.Object(
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
export type OutboxHeaders = Static<typeof OutboxHeaders>;
// Compiled once: the relay checks every row it publishes.
const headersCheck = TypeCompiler.Compile(OutboxHeaders);

/** Everything `ConfirmPublisher.send` needs for one row, plus the stream it belongs to. */
export interface AmqpEventMessage {
  readonly routingKey: string;
  readonly content: Buffer;
  readonly options: Options.Publish;
  /** `<streamType>:<streamId>`: messages with the same key must stay in order. */
  readonly streamKey: string;
}

/**
 * Maps an outbox row to the message of the contract: the stored payload byte for byte,
 * persistent, JSON, `messageId` = event id (identical on every re-publish, so consumers can
 * deduplicate), `type` = event type, `timestamp` = occurred at (AMQP timestamps are seconds).
 * Throws ValidationError for a row that cannot be published as the contract says.
 */
export function toAmqpMessage(row: OutboxRow): AmqpEventMessage {
  let headers: unknown;
  try {
    headers = parseJsonColumn<unknown>(row.headers);
  } catch {
    throw new ValidationError(`outbox row ${row.id}: headers are not JSON`);
  }
  if (!headersCheck.Check(headers)) {
    const problems = [...headersCheck.Errors(headers)].map((e) => ({
      path: e.path,
      message: e.message,
    }));
    throw new ValidationError(`outbox row ${row.id}: malformed headers`, problems);
  }
  const occurredAtMs = Date.parse(`${row.occurred_at.replace(' ', 'T')}Z`);
  if (Number.isNaN(occurredAtMs)) {
    throw new ValidationError(`outbox row ${row.id}: bad occurred_at ${row.occurred_at}`);
  }
  return {
    routingKey: row.routing_key,
    content: Buffer.from(row.payload, 'utf8'),
    options: {
      persistent: true,
      contentType: 'application/json',
      messageId: row.event_id,
      type: row.event_type,
      timestamp: Math.floor(occurredAtMs / 1000),
      headers,
    },
    streamKey: `${headers['stream-type']}:${headers['stream-id']}`,
  };
}
