import type { Knex } from 'knex';

/**
 * The instance registry: every running app process keeps one row up to date (a heartbeat),
 * so an operator sees what runs, where, and in which role (the relay's leader or standby).
 * Bookkeeping only - no event-store rule depends on it; a row left by a killed process
 * simply stops being refreshed and is purged after a while.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE instances (
      id            VARCHAR(64)   NOT NULL,
      app           VARCHAR(64)   NOT NULL,
      role          VARCHAR(64)   NULL,
      url           VARCHAR(255)  NULL,
      host          VARCHAR(255)  NOT NULL,
      pid           INT UNSIGNED  NOT NULL,
      started_at    DATETIME(6)   NOT NULL,
      last_seen_at  DATETIME(6)   NOT NULL,
      PRIMARY KEY (id),
      KEY instances_last_seen (last_seen_at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS instances');
}
