import type { EventEnvelope } from '@cqrs/core';
import type { Knex } from 'knex';
import { select } from './connection';
import { EVENT_COLUMNS, rowToEnvelope, type EventRow } from './rows';

const STREAM_SQL = `SELECT ${EVENT_COLUMNS} FROM events
  WHERE stream_type = ? AND stream_id = ? AND version > ? ORDER BY version`;

/** The events of one stream with version > `afterVersion`, in version order. */
export async function readStream(
  knex: Knex,
  streamType: string,
  streamId: string,
  afterVersion = 0,
): Promise<EventEnvelope[]> {
  const rows = await select<EventRow>(knex, STREAM_SQL, [streamType, streamId, afterVersion]);
  return rows.map(rowToEnvelope);
}

export interface ReadAllOptions {
  /** Exclusive: events with a greater position. Default: from the start. */
  readonly afterPosition?: string;
  readonly limit?: number;
  readonly streamTypes?: readonly string[];
}

/** Events in global position order, a page at a time (for rebuilds and catch-up readers). */
export async function readAll(knex: Knex, opts: ReadAllOptions = {}): Promise<EventEnvelope[]> {
  const params: Array<string | number> = [opts.afterPosition ?? '0'];
  let filter = '';
  if (opts.streamTypes && opts.streamTypes.length > 0) {
    filter = ` AND stream_type IN (${opts.streamTypes.map(() => '?').join(',')})`;
    params.push(...opts.streamTypes);
  }
  params.push(opts.limit ?? 1000);
  const [rows] = (await knex.raw(
    `SELECT ${EVENT_COLUMNS} FROM events WHERE position > ?${filter} ORDER BY position LIMIT ?`,
    params,
  )) as [EventRow[]];
  return rows.map(rowToEnvelope);
}

/** The highest position committed so far ('0' when empty). */
export async function headPosition(knex: Knex): Promise<string> {
  const [rows] = (await knex.raw('SELECT COALESCE(MAX(position), 0) AS head FROM events')) as [
    { head: string | number }[],
  ];
  return String(rows[0]?.head ?? 0);
}
