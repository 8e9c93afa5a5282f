import { commonEnv, port, readConfig } from '@cqrs/core';
import { createHttpServer, createLogger, exitOnStartupError, onShutdown } from '@cqrs/http';
import { connect } from 'amqplib';
import { createPool } from 'mysql2/promise';

/** Composition root of the relay worker; it serves /health and /metrics on RELAY_PORT. */
async function main(): Promise<void> {
  const log = createLogger('outbox-relay', process.env.LOG_LEVEL);
  let config;
  try {
    config = readConfig({
      mysqlUrl: commonEnv.mysqlUrl,
      amqpUrl: commonEnv.amqpUrl,
      logLevel: commonEnv.logLevel,
      port: port('RELAY_PORT', 3002),
    });
  } catch (err) {
    exitOnStartupError(log, err);
  }
  const pool = createPool({ uri: config.mysqlUrl, connectionLimit: 2, timezone: 'Z' });
  const amqpUrl = config.amqpUrl;
  const app = await createHttpServer({
    name: 'outbox-relay',
    description: 'Publishes the transactional outbox to RabbitMQ',
    logger: log,
    healthChecks: {
      mysql: () => pool.query('SELECT 1'),
      rabbitmq: async () => (await connect(amqpUrl, { timeout: 1500 })).close(),
    },
  });
  onShutdown(log, [
    ['http', () => app.close()],
    ['mysql', () => pool.end()],
  ]);
  await app.listen({ port: config.port, host: '0.0.0.0' });
}

void main();
