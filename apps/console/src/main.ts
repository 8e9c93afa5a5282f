import { commonEnv, optionalStr, port, readConfig, url } from '@cqrs/core';
import { hotelAggregates } from '@cqrs/hotel';
import { runInstance } from '@cqrs/instances';
import { createConsoleService } from './service';

/** Composition root of the operator console (docs/console.md). */
void runInstance({
  name: 'console',
  tracing: false,
  config: () =>
    readConfig({
      mysqlUrl: commonEnv.mysqlUrl,
      amqpUrl: commonEnv.amqpUrl,
      indexPrefix: commonEnv.indexPrefix,
      logLevel: commonEnv.logLevel,
      host: commonEnv.host,
      port: port('CONSOLE_PORT', 3003),
      managementUrl: optionalStr('RABBITMQ_MANAGEMENT_URL'),
      queryUrl: url('QUERY_URL', `http://127.0.0.1:${process.env.QUERY_PORT ?? '3001'}`, [
        'http',
        'https',
      ]),
      adminToken: optionalStr('ADMIN_TOKEN'),
    }),
  start: (config, log) => createConsoleService(config, hotelAggregates, log),
});
