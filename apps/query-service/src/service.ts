import {
  AmqpEventSubscription,
  connectAmqp,
  partitionedQueueDepths,
  type AmqpConnection,
  type PartitionedQueues,
} from '@cqrs/amqp';
import { createKnex, headPosition, readAll } from '@cqrs/event-store';
import { createHttpServer, type HttpServer } from '@cqrs/http';
import {
  appliedVersions,
  ConsistencyTracker,
  elasticsearchErrors,
  ensureReadModelIndices,
  fromProgress,
  IndexNames,
  ProgressBus,
  ProjectionEngine,
  Projector,
  Rebuilder,
  toProgress,
  type QueryContext,
} from '@cqrs/search';
import { Client } from '@elastic/elasticsearch';
import type { Knex } from 'knex';
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { readModels } from '@cqrs/hotel-read-models';
import { adminRoutes } from './routes/admin';

export interface QueryServiceConfig {
  readonly elasticsearchUrl: string;
  readonly indexPrefix: string;
  readonly amqpUrl: string;
  readonly eventsExchange: string;
  readonly mysqlUrl: string;
  readonly adminToken: string | undefined;
  /** `api` serves the search API, `projector` consumes events; both by default. */
  readonly roles: { readonly api: boolean; readonly projector: boolean };
  /** Unacknowledged events in flight (twice the batch lets the next batch fill while one is written). */
  readonly prefetch: number;
  /** Events per Elasticsearch batch at most (default: half the prefetch). */
  readonly maxBatch?: number;
  readonly batchDelayMs: number;
  /** Refresh what the projector applied at most this often when it has no backlog (default 100; 0: never). */
  readonly refreshEveryMs?: number;
  /** Partition queues the events are hashed onto by stream (default 4; the same on every instance). */
  readonly partitions?: number;
  /** How often a projector checks it holds no more than its share of the partitions (default 2000 ms). */
  readonly rebalanceEveryMs?: number;
  /** A file to append every applied event to (JSON lines), for an audit of per-stream order. */
  readonly appliedLog?: string;
}

export interface QueryService {
  readonly app: HttpServer;
  readonly projector: Projector | undefined;
  readonly tracker: ConsistencyTracker;
  readonly rebuilder: Rebuilder;
  readonly names: IndexNames;
  readonly queues: PartitionedQueues;
  close(): Promise<void>;
}

/**
 * Wires the query side: Elasticsearch indices, the projector (RabbitMQ -> read models), the
 * progress bus that tells every instance what is searchable, the rebuilder and the HTTP API.
 */
export async function createQueryService(
  config: QueryServiceConfig,
  log: Logger,
): Promise<QueryService> {
  const client = new Client({ node: config.elasticsearchUrl, requestTimeout: 30_000 });
  const names = new IndexNames(config.indexPrefix);
  await waitForElasticsearch(client, log);
  await ensureReadModelIndices(client, names, readModels, log);

  const queues: PartitionedQueues = {
    name: `${config.indexPrefix}.query-projector`,
    partitions: config.partitions ?? 4,
  };
  const connection: AmqpConnection = await connectAmqp({
    url: config.amqpUrl,
    name: `query-service${config.roles.projector ? '' : ' (api)'}`,
    logger: log,
    eventsExchange: config.eventsExchange,
  });
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });

  const engine = new ProjectionEngine({ client, logger: log });
  const aliases = readModels.map((m) => names.alias(m.projection.name));
  // Any instance may refresh: a waiting request needs what the projector (here or anywhere)
  // applied to be searchable, and a refresh covers every write completed before it.
  const tracker = new ConsistencyTracker({
    lookup: appliedVersions(client, names, readModels),
    refresh: () => engine.refresh(aliases),
  });
  const bus = new ProgressBus(connection, `${queues.name}.progress`, log);
  // Written synchronously: the line reaches the OS before the events' acks go out (the
  // projector acks after onEventsApplied returns), so a kill -9 cannot lose a line for an
  // acknowledged event - the scale-out e2e counts applied >= stored from this file.
  const appliedLog = config.appliedLog ? openSync(config.appliedLog, 'a') : undefined;
  let checkpoint = { position: '0', at: null as string | null };
  const heard = (position: string) => {
    if (BigInt(position) >= BigInt(checkpoint.position)) {
      checkpoint = { position, at: new Date().toISOString() };
    }
  };
  bus.subscribe((m) => {
    tracker.applied(fromProgress(m));
    heard(m.position);
  });

  const projector = config.roles.projector
    ? new Projector({
        subscription: new AmqpEventSubscription({
          connection,
          logger: log,
          queues,
          eventsExchange: config.eventsExchange,
          ...(config.rebalanceEveryMs !== undefined
            ? { rebalanceEveryMs: config.rebalanceEveryMs }
            : {}),
        }),
        logger: log,
        engine,
        targets: readModels.map((model) => ({ model, index: names.alias(model.projection.name) })),
        prefetch: config.prefetch,
        ...(config.maxBatch !== undefined ? { maxBatch: config.maxBatch } : {}),
        maxDelayMs: config.batchDelayMs,
        refresh: () => tracker.refreshApplied(),
        ...(config.refreshEveryMs !== undefined ? { refreshEveryMs: config.refreshEveryMs } : {}),
        metrics,
        onApplied: (streams, position) => {
          tracker.applied(streams);
          heard(position);
          void bus.publish(toProgress(streams, position));
        },
        ...(appliedLog !== undefined
          ? {
              onEventsApplied: (events) => {
                const at = performance.timeOrigin + performance.now();
                writeSync(appliedLog, `${JSON.stringify({ at, pid: process.pid, events })}\n`);
              },
            }
          : {}),
      })
    : undefined;
  new Gauge({
    name: 'projector_queue_messages',
    help: 'Messages waiting in the projector queue (lag) and its dead-letter queue',
    labelNames: ['queue'] as const,
    registers: [metrics],
    async collect() {
      const d = await partitionedQueueDepths(connection, queues).catch(() => undefined);
      if (!d) return;
      this.set({ queue: 'ready' }, d.ready);
      this.set({ queue: 'dead_letter' }, d.deadLetters);
    },
  });
  if (projector) {
    new Gauge({
      name: 'projector_active_partitions',
      help: 'Partitions this instance is the active consumer of (docs/scaling.md)',
      registers: [metrics],
      collect() {
        this.set(projector.activePartitions.length);
      },
    });
  }

  const knex: Knex = createKnex(config.mysqlUrl, { poolMax: 2 });
  const rebuilder = new Rebuilder({
    client,
    logger: log,
    engine,
    names,
    source: {
      readAll: (opts) => readAll(knex, opts),
      headPosition: () => headPosition(knex),
    },
    ...(projector
      ? {
          pauseLive: async () => {
            await projector.pause();
            return () => projector.resume();
          },
        }
      : {}),
  });

  const app = await createHttpServer({
    name: 'query-service',
    description: 'Search over the hotel read models, with read-your-writes consistency tokens',
    logger: log,
    metrics,
    healthChecks: {
      elasticsearch: async () => {
        const h = await client.cluster.health({ timeout: '1s' });
        if (h.status === 'red') throw new Error('cluster status red');
      },
      rabbitmq: async () => {
        if (!connection.isConnected) throw new Error('not connected');
        if (projector && !projector.isConsuming) throw new Error('projector is not consuming');
      },
    },
  });
  if (config.roles.api) {
    const ctx: QueryContext = {
      client,
      names,
      tracker,
      streamTypes: readModels.flatMap((m) =>
        m.projection.ownStreamType ? [m.projection.ownStreamType] : [],
      ),
    };
    await app.register(async (api: HttpServer) => {
      elasticsearchErrors(api);
      for (const model of readModels) if (model.routes) await api.register(model.routes(ctx));
    });
  }
  await app.register(async (ops: HttpServer) => {
    elasticsearchErrors(ops);
    await ops.register(
      adminRoutes({
        client,
        names,
        models: readModels,
        rebuilder,
        connection,
        queues,
        adminToken: config.adminToken,
        checkpoint: () => checkpoint,
      }),
    );
  });
  await projector?.start();

  return {
    app,
    projector,
    tracker,
    rebuilder,
    names,
    queues,
    async close() {
      await app.close();
      await projector?.stop();
      if (appliedLog !== undefined) closeSync(appliedLog);
      await bus.close();
      await connection.close();
      await knex.destroy();
      await client.close();
    },
  };
}

async function waitForElasticsearch(client: Client, log: Logger): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.cluster.health({ wait_for_status: 'yellow', timeout: '5s' });
      return;
    } catch (err) {
      if (attempt >= 30) throw err;
      log.warn({ err: (err as Error).message, attempt }, 'waiting for Elasticsearch');
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
