import { uuidV7 } from '@cqrs/core';
import { toOutboxMessage } from '@cqrs/event-store';
import type { Knex } from 'knex';

/** An event to store for a test: the minimum the outbox needs. */
export interface SeedEvent {
  readonly streamType: string;
  readonly streamId: string;
  readonly version: number;
  readonly type: string;
  readonly data?: Record<string, unknown>;
}

/**
 * Test fixture: writes `events` rows and their `outbox` rows in one transaction (or in `trx`
 * when given), the outbox rows exactly as the event store's append path writes them
 * (`toOutboxMessage`). Returns the event ids in order.
 */
export async function seedOutbox(
  knex: Knex | Knex.Transaction,
  events: readonly SeedEvent[],
): Promise<string[]> {
  const write = async (trx: Knex.Transaction) => {
    const rows = events.map((e) => {
      const eventId = uuidV7();
      const occurredAt = new Date().toISOString().replace(/Z$/, '000Z');
      return { e, eventId, occurredAt, metadata: { correlationId: eventId, causationId: eventId } };
    });
    const sqlTime = (iso: string) => iso.replace('T', ' ').replace(/Z$/, '');
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500);
      await trx.raw(
        `INSERT INTO events (event_id, stream_type, stream_id, version, event_type, schema_version,
                             data, metadata, occurred_at)
         VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, 1, ?, ?, ?)').join(', ')}`,
        chunk.flatMap(({ e, eventId, occurredAt, metadata }) => [
          eventId,
          e.streamType,
          e.streamId,
          e.version,
          e.type,
          JSON.stringify(e.data ?? {}),
          JSON.stringify(metadata),
          sqlTime(occurredAt),
        ]),
      );
      const [stored] = (await trx.raw(
        `SELECT event_id, position FROM events WHERE event_id IN (${chunk.map(() => '?').join(',')})`,
        chunk.map((r) => r.eventId),
      )) as [{ event_id: string; position: string | number }[]];
      const positions = new Map(stored.map((r) => [r.event_id, String(r.position)]));
      await trx.raw(
        `INSERT INTO outbox (event_id, event_type, routing_key, payload, headers, occurred_at)
         VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
        chunk.flatMap(({ e, eventId, occurredAt, metadata }) => {
          const message = toOutboxMessage({
            eventId,
            streamType: e.streamType,
            streamId: e.streamId,
            version: e.version,
            position: positions.get(eventId)!,
            type: e.type,
            schemaVersion: 1,
            occurredAt,
            data: e.data ?? {},
            metadata,
          });
          return [
            eventId,
            message.eventType,
            message.routingKey,
            message.payload,
            JSON.stringify(message.headers),
            sqlTime(occurredAt),
          ];
        }),
      );
    }
    return rows.map((r) => r.eventId);
  };
  return 'commit' in knex && typeof knex.commit === 'function'
    ? write(knex as Knex.Transaction)
    : (knex as Knex).transaction(write);
}

/** `count` events spread over `streams` streams, interleaved: s0 v1, s1 v1, ..., s0 v2, ... */
export function interleavedEvents(
  streams: number,
  perStream: number,
  streamType = 'room',
  prefix = 's',
): SeedEvent[] {
  const out: SeedEvent[] = [];
  for (let v = 1; v <= perStream; v++) {
    for (let s = 0; s < streams; s++) {
      out.push({
        streamType,
        streamId: `${prefix}${s}`,
        version: v,
        type: 'RoomRateChanged',
        data: { ratePerNight: v },
      });
    }
  }
  return out;
}
