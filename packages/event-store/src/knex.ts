import knexFactory, { type Knex } from 'knex';

export interface KnexOptions {
  readonly poolMax?: number;
  readonly poolMin?: number;
}

/**
 * A Knex instance (mysql2 driver) for a `mysql://user:pass@host:port/db` URL. UTC everywhere;
 * works against MySQL 8 and MariaDB 10.6+.
 */
export function createKnex(url: string, opts: KnexOptions = {}): Knex {
  const u = new URL(url);
  return knexFactory({
    client: 'mysql2',
    connection: {
      host: u.hostname,
      port: Number(u.port || 3306),
      user: decodeURIComponent(u.username || 'root'),
      password: decodeURIComponent(u.password),
      database: decodeURIComponent(u.pathname.replace(/^\//, '')),
      timezone: 'Z',
      supportBigNumbers: true,
      bigNumberStrings: true,
      connectTimeout: 5000,
    },
    pool: { min: opts.poolMin ?? 0, max: opts.poolMax ?? 10 },
    acquireConnectionTimeout: 10_000,
  });
}
