import { commonEnv, int, oneOf, optionalStr, port, readConfig } from '@cqrs/core';
import { runInstance } from '@cqrs/instances';
import { createQueryService } from './service';

/** Composition root of the query side: projector and search API, together or apart. */
void runInstance({
  name: 'query-service',
  config: () =>
    readConfig({
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
    }),
  start: (config, log) =>
    createQueryService(
      {
        ...config,
        roles: {
          api: config.roles.includes('api'),
          projector: config.roles.includes('projector'),
        },
      },
      log,
    ),
  role: (_service, config) => config.roles,
});
