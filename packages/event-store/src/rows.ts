import type { EventEnvelope, EventMetadata } from '@cqrs/core';

/** An `events` row as the driver returns it. */
export interface EventRow {
  readonly position: string | number;
  readonly event_id: string;
  readonly stream_type: string;
  readonly stream_id: string;
  readonly version: number;
  readonly event_type: string;
  readonly schema_version: number;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly occurred_at: Date | string;
}

/**
 * JSON columns: MariaDB declares them LONGTEXT, so depending on driver version they come back
 * as strings or parsed objects; MySQL 8 returns objects. This is the one place that copes.
 */
export function parseJsonColumn<T>(value: unknown): T {
  if (typeof value === 'string') return JSON.parse(value) as T;
  if (Buffer.isBuffer(value)) return JSON.parse(value.toString('utf8')) as T;
  return value as T;
}

/** `2026-11-21T10:00:00.123456Z` from a DATETIME(6) selected as a string, or a Date. */
export function toIsoMicros(value: Date | string): string {
  if (value instanceof Date) return `${value.toISOString().slice(0, -1)}000Z`;
  const [date, time = '00:00:00'] = value.split(' ');
  const [hms, frac = ''] = time.split('.');
  return `${date}T${hms}.${frac.padEnd(6, '0').slice(0, 6)}Z`;
}

/** `2026-11-21 10:00:00.123456`, the literal a DATETIME(6) column takes. */
export function toSqlDatetime(iso: string): string {
  return iso.replace('T', ' ').replace(/Z$/, '');
}

export function rowToEnvelope(row: EventRow): EventEnvelope {
  return {
    eventId: row.event_id,
    streamType: row.stream_type,
    streamId: row.stream_id,
    version: Number(row.version),
    position: String(row.position),
    type: row.event_type,
    schemaVersion: Number(row.schema_version),
    occurredAt: toIsoMicros(row.occurred_at),
    data: parseJsonColumn<Record<string, unknown>>(row.data),
    metadata: parseJsonColumn<EventMetadata>(row.metadata),
  };
}

/** The column list every reader selects (occurred_at as a string keeps the microseconds). */
export const EVENT_COLUMNS = `position, event_id, stream_type, stream_id, version, event_type, schema_version,
  data, metadata, DATE_FORMAT(occurred_at, '%Y-%m-%d %H:%i:%s.%f') AS occurred_at`;
