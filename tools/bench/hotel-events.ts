import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '@cqrs/core';
import type { Client } from '@elastic/elasticsearch';
import type { Connection } from 'mysql2/promise';

/**
 * A realistic hotel event history for the read-side benchmarks, in global order: per block
 * a customer registers, a room is registered, the customer places a reservation on it, the
 * reservation is confirmed and the customer is renamed (the rename reaches the reservation
 * through the join). Five events per block; positions 1..n.
 */
export function hotelEvents(count: number, tag: string): EventEnvelope[] {
  const out: EventEnvelope[] = [];
  const occurredAt = new Date().toISOString().replace(/Z$/, '000Z');
  const push = (
    streamType: string,
    streamId: string,
    version: number,
    type: string,
    data: Record<string, unknown>,
  ) =>
    out.push({
      eventId: randomUUID(),
      streamType,
      streamId,
      version,
      position: String(out.length + 1),
      type,
      schemaVersion: 1,
      occurredAt,
      data,
      metadata: { correlationId: randomUUID(), actor: 'bench' },
    });
  for (let b = 0; out.length < count; b++) {
    const c = `${tag}c${b}`;
    const r = `${tag}r${b}`;
    const x = `${tag}x${b}`;
    push('customer', c, 1, 'CustomerRegistered', {
      name: `Guest ${b}`,
      email: `guest${b}@bench.example`,
    });
    push('room', r, 1, 'RoomRegistered', {
      hotel: `Hotel ${b % 8}`,
      city: ['Lyon', 'Paris', 'Nice', 'Lille'][b % 4],
      number: String(100 + (b % 300)),
      roomType: 'double',
      capacity: 2,
      ratePerNight: 12_000,
    });
    push('reservation', x, 1, 'ReservationPlaced', {
      customerId: c,
      roomId: r,
      checkIn: '2026-12-01',
      checkOut: '2026-12-04',
      guests: 2,
      nights: 3,
      ratePerNight: 12_000,
      totalPrice: 36_000,
    });
    push('reservation', x, 2, 'ReservationConfirmed', {});
    push('customer', c, 2, 'CustomerRenamed', { name: `Guest ${b} Renamed` });
  }
  return out.slice(0, count);
}

/** Writes the events into the event store's `events` table (positions follow the order). */
export async function insertEvents(conn: Connection, events: readonly EventEnvelope[]) {
  const at = events[0]?.occurredAt.replace('T', ' ').replace(/Z$/, '') ?? '';
  for (let i = 0; i < events.length; i += 2000) {
    const rows = events
      .slice(i, i + 2000)
      .map((e) => [
        e.eventId,
        e.streamType,
        e.streamId,
        e.version,
        e.type,
        1,
        JSON.stringify(e.data),
        JSON.stringify(e.metadata),
        at,
      ]);
    await conn.query(
      `INSERT INTO events
         (event_id, stream_type, stream_id, version, event_type, schema_version, data, metadata, occurred_at)
       VALUES ?`,
      [rows],
    );
  }
}

export interface IndexedDocument {
  readonly id: string;
  readonly source: unknown;
}

/** Every document of an index (with its id), for the bulk-helper baselines. */
export async function readDocuments(client: Client, index: string): Promise<IndexedDocument[]> {
  const out: IndexedDocument[] = [];
  const scroll = client.helpers.scrollSearch<unknown>({
    index,
    size: 1000,
    query: { match_all: {} },
  });
  for await (const page of scroll) {
    for (const hit of page.body.hits.hits) out.push({ id: hit._id!, source: hit._source });
  }
  return out;
}

/** The bulk helper indexing the documents into `index`, refreshed at the end (timed by callers). */
export async function bulkIndex(
  client: Client,
  index: string,
  docs: readonly IndexedDocument[],
): Promise<void> {
  const result = await client.helpers.bulk({
    datasource: docs.map((d) => d),
    onDocument: (d: IndexedDocument) => [
      { index: { _index: index, _id: d.id } },
      d.source as object,
    ],
    refreshOnCompletion: index,
    flushBytes: 5_000_000,
    concurrency: 2,
  });
  if (result.failed > 0) throw new Error(`bulk helper: ${result.failed} documents failed`);
}
