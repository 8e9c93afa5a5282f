import type { Knex } from 'knex';
import * as m001 from './migrations/001_events_and_outbox';
import * as m002 from './migrations/002_idempotency_keys';
import * as m003 from './migrations/003_snapshots';
import * as m004 from './migrations/004_outbox_parked';
import * as m005 from './migrations/005_claims_and_deadlines';
import * as m006 from './migrations/006_instances';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Every migration, in order. Add new ones at the end; never edit a released one. */
const migrations: ReadonlyArray<readonly [string, Migration]> = [
  ['001_events_and_outbox', m001],
  ['002_idempotency_keys', m002],
  ['003_snapshots', m003],
  ['004_outbox_parked', m004],
  ['005_claims_and_deadlines', m005],
  ['006_instances', m006],
];

const source: Knex.MigrationSource<readonly [string, Migration]> = {
  getMigrations: async () => [...migrations],
  getMigrationName: ([name]) => name,
  getMigration: async ([, m]) => m,
};

const config: Knex.MigratorConfig = { migrationSource: source, tableName: 'schema_migrations' };

/**
 * Brings the schema up to date (idempotent). Several processes may start at once (every app
 * migrates on start): a server-side named lock per database (`GET_LOCK`, held on one pooled
 * connection while Knex migrates on another) serialises them, so the later ones find nothing to
 * do. Knex's own lock table alone makes losers fail, and its creation races. Needs a pool of at
 * least two connections.
 */
export async function migrate(knex: Knex, lockTimeoutSeconds = 120): Promise<void> {
  const conn = (await knex.client.acquireConnection()) as RawConnection;
  try {
    const [row] = await rawQuery(
      conn,
      "SELECT GET_LOCK(CONCAT('cqrs_migrate:', DATABASE()), ?) AS got",
      [lockTimeoutSeconds],
    );
    if (Number(row?.got) !== 1) {
      throw new Error(
        `Timed out after ${lockTimeoutSeconds}s waiting for another process's migration`,
      );
    }
    try {
      await knex.migrate.latest(config);
    } finally {
      await rawQuery(conn, "SELECT RELEASE_LOCK(CONCAT('cqrs_migrate:', DATABASE()))", []);
    }
  } finally {
    await knex.client.releaseConnection(conn);
  }
}

/** The driver's (mysql2) callback connection that Knex's pool hands out. */
interface RawConnection {
  query(sql: string, values: unknown[], cb: (err: Error | null, rows: unknown) => void): void;
}

function rawQuery(
  conn: RawConnection,
  sql: string,
  values: unknown[],
): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) =>
    conn.query(sql, values, (err, rows) =>
      err ? reject(err) : resolve(rows as Array<Record<string, unknown>>),
    ),
  );
}

export async function rollbackAll(knex: Knex): Promise<void> {
  await knex.migrate.rollback(config, true);
}
