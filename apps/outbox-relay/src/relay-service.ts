import { ConfirmPublisher, connectAmqp } from '@cqrs/amqp';
import { createKnex, migrate } from '@cqrs/event-store';
import { createHttpServer, type HttpServer } from '@cqrs/http';
import { createRelayMetrics, MySqlLeaderLock, OutboxRelay, outboxStats } from '@cqrs/outbox';
import type { Logger } from 'pino';
import { relayAdminRoutes } from './admin-routes';
import { collectDefaultMetrics, Registry } from 'prom-client';

export interface RelayConfig {
  readonly mysqlUrl: string;
  readonly amqpUrl: string;
  readonly eventsExchange: string;
  /** Longest pause between probes of an idle outbox. */
  readonly pollIntervalMs: number;
  /** Shortest pause, while rows keep coming (the pause grows with the idle time). */
  readonly minPollIntervalMs: number;
  readonly batchSize: number;
  readonly maxInFlight: number;
  readonly confirmTimeoutMs: number;
  readonly lockName: string | undefined;
  readonly retentionSeconds: number;
  readonly purgeIntervalMs: number;
  readonly purgeBatchSize: number;
  /** Enables /admin/outbox* (parking poisoned rows); unset = 403. */
  readonly adminToken?: string | undefined;
}

export interface RelayService {
  readonly app: HttpServer;
  /** `leader` while this process holds the relay lock, else `standby`. */
  role(): 'leader' | 'standby';
  /** Stops publishing (the current pass completes), hands the lock over, closes everything. */
  close(): Promise<void>;
}

/**
 * Wires the relay: MySQL (Knex + lock connection), RabbitMQ, the relay loop, /health, /metrics
 * and the parking endpoints (/admin/outbox*).
 */
export async function createRelayService(config: RelayConfig, log: Logger): Promise<RelayService> {
  const knex = createKnex(config.mysqlUrl, { poolMax: 4 });
  await migrate(knex);
  const exchange = config.eventsExchange;
  const amqp = await connectAmqp({
    url: config.amqpUrl,
    name: `outbox-relay pid ${process.pid}`,
    logger: log,
    eventsExchange: exchange,
  });
  const lock = new MySqlLeaderLock({
    url: config.mysqlUrl,
    logger: log,
    ...(config.lockName ? { lockName: config.lockName } : {}),
  });
  const publisher = new ConfirmPublisher(amqp, {
    logger: log,
    maxInFlight: config.maxInFlight,
    confirmTimeoutMs: config.confirmTimeoutMs,
  });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const relay = new OutboxRelay({
    knex,
    lock,
    publisher,
    exchange,
    logger: log,
    metrics: createRelayMetrics(registry, () => outboxStats(knex)),
    batchSize: config.batchSize,
    pollIntervalMs: config.pollIntervalMs,
    minPollIntervalMs: config.minPollIntervalMs,
    retentionSeconds: config.retentionSeconds,
    purgeIntervalMs: config.purgeIntervalMs,
    purgeBatchSize: config.purgeBatchSize,
  });

  const app = await createHttpServer({
    name: 'outbox-relay',
    description: 'Publishes the transactional outbox to RabbitMQ',
    logger: log,
    metrics: registry,
    healthChecks: {
      mysql: () => knex.raw('SELECT 1'),
      rabbitmq: async () => {
        if (!amqp.isConnected) throw new Error('not connected to RabbitMQ');
      },
      // Leader or hot standby, either is healthy; without the lock connection it cannot lead.
      leadership: async () => {
        if (!lock.canLead) throw new Error('the leader-lock connection to MySQL is down');
      },
    },
  });
  await app.register(relayAdminRoutes(knex, config.adminToken));
  relay.start();

  return {
    app,
    role: () => (lock.isLeader ? 'leader' : 'standby'),
    async close() {
      await relay.stop();
      await lock.stop();
      await app.close();
      await publisher.close();
      await amqp.close();
      await knex.destroy();
    },
  };
}
