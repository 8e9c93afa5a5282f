import { parseMysqlUrl } from '@cqrs/core';
import knexFactory, { type Knex } from 'knex';

export interface KnexOptions {
  readonly poolMax?: number;
  readonly poolMin?: number;
  /**
   * Let one query carry several statements (default true): the event store sends an append
   * as one `START TRANSACTION; INSERT ...; INSERT ...; COMMIT` round trip. Every statement
   * of this code base binds its values as placeholders, never by string concatenation, so
   * nothing a client sends can add a statement. With false, the store sends the same
   * statements one by one.
   */
  readonly multipleStatements?: boolean;
}

/**
 * A Knex instance (mysql2 driver) for a `mysql://user:pass@host:port/db` URL. UTC everywhere;
 * works against MySQL 8 and MariaDB 10.6+.
 */
export function createKnex(url: string, opts: KnexOptions = {}): Knex {
  return knexFactory({
    client: 'mysql2',
    connection: {
      ...parseMysqlUrl(url),
      timezone: 'Z',
      supportBigNumbers: true,
      bigNumberStrings: true,
      connectTimeout: 5000,
      multipleStatements: opts.multipleStatements ?? true,
    },
    pool: { min: opts.poolMin ?? 0, max: opts.poolMax ?? 10 },
    acquireConnectionTimeout: 10_000,
  });
}
