import { createTestDatabase, type TestDatabase } from '@cqrs/testing';
import { parseMysqlUrl } from '@cqrs/core';
import { migrate } from '@cqrs/event-store';
import type { ResultRow } from './harness';
import type { Progress } from './progress';

export interface BenchEnv {
  readonly mysqlUrl: string;
  readonly amqpUrl: string;
  readonly elasticsearchUrl: string;
}

/** What every benchmark gets from the runner. */
export interface BenchContext {
  readonly quick: boolean;
  readonly progress: Progress;
  readonly env: BenchEnv;
  /** Settings found while running (queue type, refresh_interval), merged into the JSON. */
  readonly durability: Record<string, unknown>;
  /** Registers a cleanup step; they run in reverse order when the benchmark ends, however. */
  defer(cleanup: () => Promise<unknown>): void;
}

/** A row a benchmark promises, so a failure can still print it as "not available". */
export interface RowSpec {
  readonly id: string;
  readonly unit: string;
  readonly target: string;
}

export interface Benchmark {
  readonly name: string;
  readonly rows: readonly RowSpec[];
  /** Rough wall time, for the ETA. */
  plannedMs(quick: boolean): number;
  run(ctx: BenchContext): Promise<ResultRow[]>;
}

/** A fresh, migrated database of the benchmark's own, dropped when the benchmark ends. */
export async function benchDatabase(ctx: BenchContext, label: string): Promise<TestDatabase> {
  const db = await createTestDatabase(`bench ${label}`);
  ctx.defer(() => db.drop());
  await migrate(db.knex);
  return db;
}

/** `mysql2` connection options equal to what `createKnex` gives its driver. */
export function mysqlConnectionOptions(url: string) {
  return {
    ...parseMysqlUrl(url),
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: true,
    connectTimeout: 5000,
  };
}
