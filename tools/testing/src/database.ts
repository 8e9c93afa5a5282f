import { parseMysqlUrl } from '@cqrs/core';
import knexFactory, { type Knex } from 'knex';
import { createConnection } from 'mysql2/promise';
import { uniqueName } from './names';

export interface TestDatabase {
  /** `MYSQL_URL` pointing at the fresh database. */
  readonly url: string;
  readonly name: string;
  /** A Knex instance on the database (destroyed by `drop`). */
  readonly knex: Knex;
  drop(): Promise<void>;
}

const baseUrl = () => process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/cqrs';

async function adminQuery(sql: string): Promise<void> {
  const { database: _none, ...server } = parseMysqlUrl(baseUrl());
  const conn = await createConnection(server);
  try {
    await conn.query(sql);
  } finally {
    await conn.end();
  }
}

/** Creates a database of its own for one test file; `drop()` removes it. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = uniqueName(label);
  await adminQuery(`CREATE DATABASE \`${name}\``);
  const u = new URL(baseUrl());
  u.pathname = `/${name}`;
  const url = u.toString();
  const knex = knexFactory({
    client: 'mysql2',
    connection: {
      ...parseMysqlUrl(url),
      timezone: 'Z',
    },
    pool: { min: 0, max: 10 },
  });
  return {
    url,
    name,
    knex,
    async drop() {
      await knex.destroy();
      await adminQuery(`DROP DATABASE IF EXISTS \`${name}\``);
    },
  };
}
