import type { Knex } from 'knex';

/**
 * One row per `Idempotency-Key`. A key is first *claimed* (`pending`, with a short lease so a
 * crashed request cannot block it for longer than the lease), then *completed* in the same
 * transaction that appends the command's events, with the result to replay. Rows expire after
 * a TTL and are purged in batches. See docs/event-store.md "Idempotency".
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE idempotency_keys (
      idempotency_key   VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      fingerprint       VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      status            VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      claim_token       CHAR(36)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      result            JSON         NULL,
      created_at        DATETIME(6)  NOT NULL,
      lease_expires_at  DATETIME(6)  NULL,
      expires_at        DATETIME(6)  NOT NULL,
      PRIMARY KEY (idempotency_key),
      KEY ix_idempotency_keys_expires (expires_at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS idempotency_keys');
}
