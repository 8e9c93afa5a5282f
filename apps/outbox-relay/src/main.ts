import { commonEnv, int, optionalStr, port, readConfig } from '@cqrs/core';
import { runInstance } from '@cqrs/instances';
import { createRelayService } from './relay-service';

/** Composition root of the relay worker; it serves /health and /metrics on RELAY_PORT. */
void runInstance({
  name: 'outbox-relay',
  config: () =>
    readConfig({
      mysqlUrl: commonEnv.mysqlUrl,
      amqpUrl: commonEnv.amqpUrl,
      eventsExchange: commonEnv.eventsExchange,
      logLevel: commonEnv.logLevel,
      host: commonEnv.host,
      port: port('RELAY_PORT', 3002),
      pollIntervalMs: int('RELAY_POLL_INTERVAL_MS', 50, 1, 60_000),
      minPollIntervalMs: int('RELAY_MIN_POLL_INTERVAL_MS', 5, 1, 60_000),
      batchSize: int('RELAY_BATCH_SIZE', 500, 1, 10_000),
      maxInFlight: int('RELAY_MAX_IN_FLIGHT', 256, 1, 65_535),
      confirmTimeoutMs: int('RELAY_CONFIRM_TIMEOUT_MS', 10_000, 100, 600_000),
      lockName: optionalStr('RELAY_LOCK_NAME'),
      adminToken: optionalStr('ADMIN_TOKEN'),
      retentionSeconds: int('OUTBOX_RETENTION_SECONDS', 86_400, 0),
      purgeIntervalMs: int('OUTBOX_PURGE_INTERVAL_MS', 60_000, 100),
      purgeBatchSize: int('OUTBOX_PURGE_BATCH_SIZE', 1000, 1, 100_000),
    }),
  start: (config, log) => createRelayService(config, log),
  role: (service) => service.role(),
});
