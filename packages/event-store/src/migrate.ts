import type { Knex } from 'knex';
import * as m001 from './migrations/001_events_and_outbox';
import * as m002 from './migrations/002_idempotency_keys';
import * as m003 from './migrations/003_snapshots';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Every migration, in order. Add new ones at the end; never edit a released one. */
const migrations: ReadonlyArray<readonly [string, Migration]> = [
  ['001_events_and_outbox', m001],
  ['002_idempotency_keys', m002],
  ['003_snapshots', m003],
];

const source: Knex.MigrationSource<readonly [string, Migration]> = {
  getMigrations: async () => [...migrations],
  getMigrationName: ([name]) => name,
  getMigration: async ([, m]) => m,
};

const config: Knex.MigratorConfig = { migrationSource: source, tableName: 'schema_migrations' };

/**
 * Brings the schema up to date (idempotent). Several processes may start at once: Knex's
 * migration lock makes the losers fail fast (or race on creating the lock table), so they
 * wait and try again - by then the winner has usually migrated and there is nothing to do.
 */
export async function migrate(knex: Knex, attempts = 20): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await knex.migrate.latest(config);
      return;
    } catch (err) {
      if (attempt >= attempts || !isMigrationRace(err)) throw err;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200 * attempt));
    }
  }
}

function isMigrationRace(err: unknown): boolean {
  const e = err as { name?: string; code?: string };
  return (
    e.name === 'MigrationLocked' || e.code === 'ER_TABLE_EXISTS_ERROR' || e.code === 'ER_DUP_ENTRY'
  );
}

export async function rollbackAll(knex: Knex): Promise<void> {
  await knex.migrate.rollback(config, true);
}
