import type { Knex } from 'knex';

/**
 * The latest snapshot of each stream: the aggregate's persisted state at `version`. Only a
 * cache - deleting every row is always safe, streams are then replayed from the start.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE snapshots (
      stream_type     VARCHAR(64)       NOT NULL,
      stream_id       VARCHAR(64)       NOT NULL,
      version         INT UNSIGNED      NOT NULL,
      schema_version  SMALLINT UNSIGNED NOT NULL,
      state           JSON              NOT NULL,
      created_at      DATETIME(6)       NOT NULL,
      PRIMARY KEY (stream_type, stream_id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS snapshots');
}
