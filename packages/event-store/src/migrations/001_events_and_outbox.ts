import type { Knex } from 'knex';

/**
 * The event store and its transactional outbox. Plain SQL that runs on MySQL 8 and
 * MariaDB 10.6+ alike. See docs/event-store.md.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE events (
      position        BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
      event_id        CHAR(36)        NOT NULL,
      stream_type     VARCHAR(64)     NOT NULL,
      stream_id       VARCHAR(64)     NOT NULL,
      version         INT UNSIGNED    NOT NULL,
      event_type      VARCHAR(128)    NOT NULL,
      schema_version  SMALLINT UNSIGNED NOT NULL DEFAULT 1,
      data            JSON            NOT NULL,
      metadata        JSON            NOT NULL,
      occurred_at     DATETIME(6)     NOT NULL,
      PRIMARY KEY (position),
      UNIQUE KEY uq_events_event_id (event_id),
      UNIQUE KEY uq_events_stream_version (stream_type, stream_id, version)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
  // One row per event, written in the same transaction as the event. `payload` is the exact
  // message body the relay publishes; `headers` the AMQP headers. `published_at` stays NULL
  // until the broker confirmed the message.
  await knex.raw(`
    CREATE TABLE outbox (
      id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
      event_id        CHAR(36)        NOT NULL,
      event_type      VARCHAR(128)    NOT NULL,
      routing_key     VARCHAR(255)    NOT NULL,
      payload         LONGTEXT        NOT NULL,
      headers         JSON            NOT NULL,
      occurred_at     DATETIME(6)     NOT NULL,
      created_at      DATETIME(6)     NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
      published_at    DATETIME(6)     NULL,
      attempts        INT UNSIGNED    NOT NULL DEFAULT 0,
      PRIMARY KEY (id),
      KEY ix_outbox_unpublished (published_at, id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS outbox');
  await knex.raw('DROP TABLE IF EXISTS events');
}
