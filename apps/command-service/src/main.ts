import { commonEnv, port, readConfig } from '@cqrs/core';
import { createHttpServer, createLogger, exitOnStartupError, onShutdown } from '@cqrs/http';
import { createPool } from 'mysql2/promise';

/** Composition root of the command API: config, wiring, start, graceful stop. */
async function main(): Promise<void> {
  const log = createLogger('command-service', process.env.LOG_LEVEL);
  let config;
  try {
    config = readConfig({
      mysqlUrl: commonEnv.mysqlUrl,
      logLevel: commonEnv.logLevel,
      port: port('COMMAND_PORT', 3000),
    });
  } catch (err) {
    exitOnStartupError(log, err);
  }
  const pool = createPool({ uri: config.mysqlUrl, connectionLimit: 4, timezone: 'Z' });
  const app = await createHttpServer({
    name: 'command-service',
    description: 'Commands to the hotel aggregates',
    logger: log,
    healthChecks: { mysql: () => pool.query('SELECT 1') },
  });
  onShutdown(log, [
    ['http', () => app.close()],
    ['mysql', () => pool.end()],
  ]);
  await app.listen({ port: config.port, host: '0.0.0.0' });
}

void main();
