import type { Knex } from 'knex';
import * as m001 from './migrations/001_events_and_outbox';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Every migration, in order. Add new ones at the end; never edit a released one. */
const migrations: ReadonlyArray<readonly [string, Migration]> = [['001_events_and_outbox', m001]];

const source: Knex.MigrationSource<readonly [string, Migration]> = {
  getMigrations: async () => [...migrations],
  getMigrationName: ([name]) => name,
  getMigration: async ([, m]) => m,
};

const config: Knex.MigratorConfig = { migrationSource: source, tableName: 'schema_migrations' };

/** Brings the schema up to date (idempotent; safe to run from several processes). */
export async function migrate(knex: Knex): Promise<void> {
  await knex.migrate.latest(config);
}

export async function rollbackAll(knex: Knex): Promise<void> {
  await knex.migrate.rollback(config, true);
}
