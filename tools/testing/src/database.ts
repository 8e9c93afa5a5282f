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
  const u = new URL(baseUrl());
  const conn = await createConnection({
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password),
  });
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
      host: u.hostname,
      port: Number(u.port || 3306),
      user: decodeURIComponent(u.username || 'root'),
      password: decodeURIComponent(u.password),
      database: name,
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
