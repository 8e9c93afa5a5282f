import {
  eventMessageProperties,
  parseEventMessageHeaders,
  streamKey,
  ValidationError,
  type EventMessageHeaders,
  type EventMessageProperties,
} from '@cqrs/core';
import { parseJsonColumn } from '@cqrs/event-store';

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

/** Everything an EventPublisher's `send` needs for one row, plus the stream it belongs to. */
export interface OutgoingEventMessage {
  readonly routingKey: string;
  readonly content: Buffer;
  readonly options: EventMessageProperties & { readonly headers: EventMessageHeaders };
  /** `<streamType>:<streamId>`: messages with the same key must stay in order. */
  readonly streamKey: string;
}

/**
 * Maps an outbox row to the message of the contract: the stored payload byte for byte,
 * persistent, JSON, `messageId` = event id (identical on every re-publish, so consumers can
 * deduplicate), `type` = event type, `timestamp` = occurred at (AMQP timestamps are seconds).
 * Throws ValidationError for a row that cannot be published as the contract says.
 */
export function toOutgoingMessage(row: OutboxRow): OutgoingEventMessage {
  let headers: unknown;
  try {
    headers = parseJsonColumn<unknown>(row.headers);
  } catch {
    throw new ValidationError(`outbox row ${row.id}: headers are not JSON`);
  }
  const checked = parseEventMessageHeaders(headers, `outbox row ${row.id}`);
  const occurredAtMs = Date.parse(`${row.occurred_at.replace(' ', 'T')}Z`);
  if (Number.isNaN(occurredAtMs)) {
    throw new ValidationError(`outbox row ${row.id}: bad occurred_at ${row.occurred_at}`);
  }
  return {
    routingKey: row.routing_key,
    content: Buffer.from(row.payload, 'utf8'),
    options: {
      ...eventMessageProperties({ eventId: row.event_id, type: row.event_type, occurredAtMs }),
      headers: checked,
    },
    streamKey: streamKey({ streamType: checked['stream-type'], streamId: checked['stream-id'] }),
  };
}
