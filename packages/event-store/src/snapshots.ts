import type { Clock, SnapshotRecord } from '@cqrs/core';
import type { Knex } from 'knex';
import { select } from './connection';
import { parseJsonColumn, toIsoMicros, toSqlDatetime } from './rows';

interface SnapshotRow {
  readonly version: number;
  readonly schema_version: number;
  readonly state: unknown;
}

const SNAPSHOT_SQL =
  'SELECT version, schema_version, state FROM snapshots WHERE stream_type = ? AND stream_id = ?';

export async function loadSnapshot(
  knex: Knex,
  streamType: string,
  streamId: string,
): Promise<SnapshotRecord | undefined> {
  const rows = await select<SnapshotRow>(knex, SNAPSHOT_SQL, [streamType, streamId]);
  const row = rows[0];
  if (!row) return undefined;
  return {
    streamType,
    streamId,
    version: Number(row.version),
    schemaVersion: Number(row.schema_version),
    state: parseJsonColumn<unknown>(row.state),
  };
}

/**
 * Keeps the newest snapshot per stream. Two processes may snapshot the same stream at once;
 * an older one arriving late never replaces a newer one. `version` is assigned last because
 * MySQL evaluates ON DUPLICATE KEY UPDATE assignments left to right.
 */
export async function saveSnapshot(
  knex: Knex,
  snapshot: SnapshotRecord,
  clock: Clock,
): Promise<void> {
  await knex.raw(
    `INSERT INTO snapshots (stream_type, stream_id, version, schema_version, state, created_at)
     VALUES (?, ?, ?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE
       schema_version = IF(VALUES(version) >= version, VALUES(schema_version), schema_version),
       state = IF(VALUES(version) >= version, VALUES(state), state),
       created_at = IF(VALUES(version) >= version, VALUES(created_at), created_at),
       version = GREATEST(version, VALUES(version))`,
    [
      snapshot.streamType,
      snapshot.streamId,
      snapshot.version,
      snapshot.schemaVersion,
      JSON.stringify(snapshot.state),
      toSqlDatetime(toIsoMicros(clock.now())),
    ],
  );
}
