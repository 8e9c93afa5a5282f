import type { Knex } from 'knex';

/**
 * The hot paths (append, stream and snapshot reads) borrow a connection from the Knex pool
 * and talk to mysql2 directly: the query builder, `knex.raw` compilation and Knex's
 * transaction object cost about as much client CPU per command as the SQL itself
 * (docs/performance.md "R1"). The pool, its limits and its lifecycle stay Knex's: the
 * connection goes back with `releaseConnection`, and `knex.destroy()` closes everything.
 */

/** What a mysql2 (callback API) connection of the Knex pool offers us. */
export interface PooledConnection {
  query(
    sql: string,
    values: readonly unknown[],
    callback: (err: Error | null, result: unknown) => void,
  ): { on(event: 'result', listener: (result: unknown) => void): unknown };
  destroy(): void;
  readonly config: { readonly multipleStatements?: boolean };
}

/** A mysql2 OK packet: what INSERT / UPDATE / START TRANSACTION / COMMIT return. */
export interface ResultHeader {
  readonly affectedRows: number;
  readonly insertId: number | string;
}

export interface Statement {
  readonly sql: string;
  readonly values: readonly unknown[];
}

export async function withConnection<T>(
  knex: Knex,
  work: (connection: PooledConnection) => Promise<T>,
): Promise<T> {
  const connection = (await knex.client.acquireConnection()) as PooledConnection;
  try {
    return await work(connection);
  } finally {
    await knex.client.releaseConnection(connection);
  }
}

export function query<T>(
  connection: PooledConnection,
  sql: string,
  values: readonly unknown[] = [],
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    connection.query(sql, values, (err, result) => (err ? reject(err) : resolve(result as T)));
  });
}

/** One SELECT on a pooled connection; resolves the rows. */
export function select<Row>(knex: Knex, sql: string, values: readonly unknown[]): Promise<Row[]> {
  return withConnection(knex, (c) => query<Row[]>(c, sql, values));
}

/** What a batch got through: one result per statement that ran, and what stopped it. */
export interface BatchOutcome {
  readonly results: unknown[];
  /** The error of statement `results.length`; the statements after it did not run. */
  readonly error?: unknown;
}

/**
 * Runs statements in order until one fails. On a connection opened with `multipleStatements`
 * (createKnex does) they travel as one query - one write and one round trip; otherwise one
 * by one, with the same outcome. Either way the first failing statement stops the rest and
 * an open transaction stays open: the caller goes on, or rolls back.
 */
export async function batch(
  connection: PooledConnection,
  statements: readonly Statement[],
): Promise<BatchOutcome> {
  const results: unknown[] = [];
  if (statements.length === 1 || connection.config.multipleStatements !== true) {
    try {
      for (const s of statements) results.push(await query(connection, s.sql, s.values));
      return { results };
    } catch (error) {
      return { results, error };
    }
  }
  let sql = statements[0]!.sql;
  const values = [...statements[0]!.values];
  for (let i = 1; i < statements.length; i++) {
    sql += `;\n${statements[i]!.sql}`;
    for (const v of statements[i]!.values) values.push(v);
  }
  // mysql2 hands the callback no results when a statement fails, but emits each statement's
  // OK packet as it arrives: counting them tells which statement failed.
  return new Promise((resolve) => {
    connection
      .query(sql, values, (error) => resolve(error ? { results, error } : { results }))
      .on('result', (result) => results.push(result));
  });
}

/**
 * Ends a failed transaction. If even ROLLBACK fails, the connection is in an unknown state:
 * it is destroyed, so the pool's validation drops it instead of lending it out again (the
 * server rolls back what a closed connection left open).
 */
export async function rollback(connection: PooledConnection): Promise<void> {
  try {
    await query(connection, 'ROLLBACK');
  } catch {
    connection.destroy();
  }
}
