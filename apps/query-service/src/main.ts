import { commonEnv, int, oneOf, optionalStr, port, readConfig } from '@cqrs/core';
import { startTracing } from '@cqrs/telemetry';
import { createLogger, exitOnStartupError, onShutdown } from '@cqrs/http';
import { startHeartbeat } from '@cqrs/instances';
import { createQueryService } from './service';

/** Composition root of the query side: projector and search API, together or apart. */
async function main(): Promise<void> {
  const log = createLogger('query-service', process.env.LOG_LEVEL);
  try {
    // Before anything else, so every span of this process is recorded (off unless OTEL_TRACES_EXPORTER is set).
    const tracing = startTracing('query-service');
    const config = readConfig({
      ...commonEnv,
      port: port('QUERY_PORT', 3001),
      adminToken: optionalStr('ADMIN_TOKEN'),
      roles: oneOf('QUERY_ROLES', 'api,projector', [
        'api,projector',
        'projector,api',
        'api',
        'projector',
      ]),
      prefetch: int('PROJECTOR_PREFETCH', 2000, 1, 10_000),
      maxBatch: int('PROJECTOR_MAX_BATCH', 1000, 1, 5000),
      batchDelayMs: int('PROJECTOR_BATCH_DELAY_MS', 5, 0, 1000),
      refreshEveryMs: int('PROJECTOR_REFRESH_INTERVAL_MS', 100, 0, 60_000),
      partitions: int('PROJECTOR_PARTITIONS', 4, 1, 256),
      rebalanceEveryMs: int('PROJECTOR_REBALANCE_INTERVAL_MS', 2000, 100, 600_000),
      appliedLog: optionalStr('PROJECTOR_APPLIED_LOG'),
    });
    const service = await createQueryService(
      {
        ...config,
        roles: {
          api: config.roles.includes('api'),
          projector: config.roles.includes('projector'),
        },
      },
      log,
    );
    const instance = startHeartbeat({
      app: 'query-service',
      mysqlUrl: config.mysqlUrl,
      host: config.host,
      port: config.port,
      role: () => config.roles,
      logger: log,
    });
    onShutdown(log, [
      ['instance', () => instance.stop()],
      ['query-service', () => service.close()],
      ['tracing', () => tracing.shutdown()],
    ]);
    await service.app.listen({ port: config.port, host: config.host });
  } catch (err) {
    exitOnStartupError(log, err);
  }
}

void main();
