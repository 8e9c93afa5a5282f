import type { Knex } from 'knex';

/**
 * Two tables derived from events and written in the same transaction as them
 * (docs/room-calendar.md); both can be rebuilt from the log (`npm run claims:rebuild`).
 *
 * `claims`: unique keys a stream holds (a room night held by one reservation). The primary
 * key is the guarantee: a second stream inserting a held key fails its whole append.
 *
 * `deadlines`: a state's delayed transitions made durable. `fire_at` starts at `due_at` and is
 * moved by each lease (a worker that dies lets it run out); the append that leaves the state
 * deletes the row.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE claims (
      scope              VARCHAR(64)  NOT NULL,
      claim_key          VARCHAR(191) NOT NULL,
      owner_stream_type  VARCHAR(64)  NOT NULL,
      owner_stream_id    VARCHAR(64)  NOT NULL,
      claimed_at         DATETIME(6)  NOT NULL,
      PRIMARY KEY (scope, claim_key),
      KEY ix_claims_owner (owner_stream_type, owner_stream_id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
  await knex.raw(`
    CREATE TABLE deadlines (
      stream_type   VARCHAR(64)  NOT NULL,
      stream_id     VARCHAR(64)  NOT NULL,
      name          VARCHAR(128) NOT NULL,
      command       VARCHAR(128) NOT NULL,
      due_at        DATETIME(6)  NOT NULL,
      fire_at       DATETIME(6)  NOT NULL,
      lease_token   CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NULL,
      attempts      INT UNSIGNED NOT NULL DEFAULT 0,
      PRIMARY KEY (stream_type, stream_id, name),
      KEY ix_deadlines_fire_at (fire_at),
      KEY ix_deadlines_due_at (due_at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS deadlines');
  await knex.raw('DROP TABLE IF EXISTS claims');
}
