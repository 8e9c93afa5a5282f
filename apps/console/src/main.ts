import { commonEnv, optionalStr, port, readConfig, url } from '@cqrs/core';
import { hotelAggregates } from '@cqrs/hotel';
import { createLogger, exitOnStartupError, onShutdown } from '@cqrs/http';
import { startHeartbeat } from '@cqrs/instances';
import { createConsoleService } from './service';

/** Composition root of the operator console (docs/console.md). */
async function main(): Promise<void> {
  const log = createLogger('console', process.env.LOG_LEVEL);
  try {
    const queryPort = process.env.QUERY_PORT ?? '3001';
    const config = readConfig({
      mysqlUrl: commonEnv.mysqlUrl,
      amqpUrl: commonEnv.amqpUrl,
      indexPrefix: commonEnv.indexPrefix,
      logLevel: commonEnv.logLevel,
      host: commonEnv.host,
      port: port('CONSOLE_PORT', 3003),
      managementUrl: optionalStr('RABBITMQ_MANAGEMENT_URL'),
      queryUrl: url('QUERY_URL', `http://127.0.0.1:${queryPort}`, ['http', 'https']),
      adminToken: optionalStr('ADMIN_TOKEN'),
    });
    const service = await createConsoleService(config, hotelAggregates, log);
    const instance = startHeartbeat({
      app: 'console',
      mysqlUrl: config.mysqlUrl,
      host: config.host,
      port: config.port,
      logger: log,
    });
    onShutdown(log, [
      ['instance', () => instance.stop()],
      ['console', () => service.close()],
    ]);
    await service.app.listen({ port: config.port, host: config.host });
  } catch (err) {
    exitOnStartupError(log, err);
  }
}

void main();
