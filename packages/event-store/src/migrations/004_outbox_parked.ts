import type { Knex } from 'knex';

/**
 * Outbox rows an operator took out of the relay's way (docs/delivery.md "A row that can never
 * be published"): the relay publishes in id order and stalls on a row it cannot publish rather
 * than skip it; parking moves that row here - nothing is lost - and re-queueing moves it back
 * with its id. `headers` is plain text here: a row whose headers are not valid JSON must be
 * parkable too.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE outbox_parked (
      id              BIGINT UNSIGNED NOT NULL,
      event_id        CHAR(36)        NOT NULL,
      event_type      VARCHAR(128)    NOT NULL,
      routing_key     VARCHAR(255)    NOT NULL,
      payload         LONGTEXT        NOT NULL,
      headers         LONGTEXT        NOT NULL,
      occurred_at     DATETIME(6)     NOT NULL,
      created_at      DATETIME(6)     NOT NULL,
      attempts        INT UNSIGNED    NOT NULL,
      parked_at       DATETIME(6)     NOT NULL,
      reason          VARCHAR(1000)   NOT NULL,
      PRIMARY KEY (id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS outbox_parked');
}
