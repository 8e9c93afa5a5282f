import { AggregateRuntime, DeadlineWorker, type AggregateRegistry } from '@cqrs/aggregates';
import { createKnex, migrate, MySqlEventStore } from '@cqrs/event-store';
import type { HttpServer } from '@cqrs/http';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { buildCommandApp } from './app';
import { commandMetrics, deadlineMetrics } from './metrics';

export interface CommandServiceConfig {
  readonly mysqlUrl: string;
  readonly apiToken?: string;
  readonly mysqlPoolMax: number;
  /** Snapshot every N events of a stream (0 = never). */
  readonly snapshotEvery: number;
  /** Re-decisions after a concurrency conflict before answering 409. */
  readonly conflictMaxRetries: number;
  /** Live actors kept in memory (least recently used dropped beyond). */
  readonly actorCacheMax?: number;
  /** An actor unused this long is dropped from memory (0 = never). */
  readonly actorIdleMs?: number;
  /** How long a claimed Idempotency-Key blocks others if its request dies (crash). */
  readonly idempotencyLeaseMs: number;
  /** How often expired Idempotency-Keys are purged. */
  readonly idempotencyPurgeMs: number;
  /** Durations of the machines' named delays, e.g. `{ reservationHold: 900000 }`. */
  readonly delays?: Readonly<Record<string, number>>;
  /** How often this process looks for due deadlines (every instance runs a worker). */
  readonly deadlinePollMs?: number;
  /** How long a claimed deadline is this process's before another may fire it. */
  readonly deadlineLeaseMs?: number;
}

export interface CommandService {
  readonly app: HttpServer;
  readonly runtime: AggregateRuntime;
  readonly store: MySqlEventStore;
  /** Stops accepting, lets in-flight commands finish, then closes the pool. */
  close(): Promise<void>;
}

/** Builds the command side: schema migration, event store, aggregate runtime, HTTP app. */
export async function createCommandService(
  config: CommandServiceConfig,
  aggregates: AggregateRegistry,
  log: Logger,
): Promise<CommandService> {
  const knex = createKnex(config.mysqlUrl, { poolMax: config.mysqlPoolMax });
  try {
    await migrate(knex);
  } catch (err) {
    await knex.destroy();
    throw err;
  }
  const store = new MySqlEventStore(knex, { idempotencyLeaseMs: config.idempotencyLeaseMs });
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const commands = commandMetrics(metrics, aggregates, log);
  const runtime = new AggregateRuntime({
    store,
    aggregates,
    snapshotEvery: config.snapshotEvery,
    maxRetries: config.conflictMaxRetries,
    ...(config.actorCacheMax !== undefined ? { cacheMaxSize: config.actorCacheMax } : {}),
    ...(config.actorIdleMs !== undefined ? { idlePassivationMs: config.actorIdleMs } : {}),
    hooks: commands.hooks,
    ...(config.delays ? { delays: config.delays } : {}),
  });
  const deadlines = new DeadlineWorker({
    store,
    runtime,
    hooks: deadlineMetrics(metrics, log),
    ...(config.deadlinePollMs !== undefined ? { pollIntervalMs: config.deadlinePollMs } : {}),
    ...(config.deadlineLeaseMs !== undefined ? { leaseMs: config.deadlineLeaseMs } : {}),
  });
  deadlines.start();
  const app = await buildCommandApp({
    runtime,
    store,
    aggregates,
    logger: log,
    metrics,
    recordEdge: commands.recordEdge,
    checkDatabase: () => store.ping(),
    ...(config.apiToken !== undefined ? { apiToken: config.apiToken } : {}),
  });

  const purge = () =>
    store
      .purgeExpiredIdempotencyKeys()
      .then((n) => n > 0 && log.info({ purged: n }, 'expired idempotency keys purged'))
      .catch((err: unknown) => log.warn({ err }, 'could not purge idempotency keys'));
  void purge();
  const purger = setInterval(purge, config.idempotencyPurgeMs);
  purger.unref();

  return {
    app,
    runtime,
    store,
    async close() {
      clearInterval(purger);
      await deadlines.stop(); // the deadlines in hand finish through the runtime
      await app.close(); // stops listening; answers in-flight requests first
      await runtime.close(); // queued decisions and snapshot writes
      await knex.destroy();
    },
  };
}
