import { commonEnv, int, optionalStr, port, readConfig } from '@cqrs/core';
import { hotelAggregates } from '@cqrs/hotel';
import { runInstance } from '@cqrs/instances';
import { createCommandService } from './service';

/** Composition root of the command API. */
void runInstance({
  name: 'command-service',
  config: () =>
    readConfig({
      mysqlUrl: commonEnv.mysqlUrl,
      logLevel: commonEnv.logLevel,
      host: commonEnv.host,
      port: port('COMMAND_PORT', 3000),
      apiToken: optionalStr('API_TOKEN'),
      mysqlPoolMax: int('MYSQL_POOL_MAX', 10, 1, 1000),
      snapshotEvery: int('SNAPSHOT_EVERY', 100, 0),
      // ~1 KB of heap per live actor: 100k actors stay well under 400 MB RSS (docs/performance.md).
      actorCacheMax: int('ACTOR_CACHE_MAX', 100_000, 1),
      actorIdleMs: int('ACTOR_IDLE_MS', 5 * 60_000, 0),
      conflictMaxRetries: int('CONFLICT_MAX_RETRIES', 10, 0, 100),
      // Renewed every third of it by the live holder: bounds how long a dead one blocks a key.
      idempotencyLeaseMs: int('IDEMPOTENCY_LEASE_MS', 5_000, 100),
      idempotencyPurgeMs: int('IDEMPOTENCY_PURGE_INTERVAL_MS', 10 * 60_000, 1000),
      reservationHoldMinutes: int('RESERVATION_HOLD_MINUTES', 15, 1, 7 * 24 * 60),
      // Tests only (seconds-long CI): a hold in milliseconds, overriding the minutes when > 0.
      reservationHoldMs: int('RESERVATION_HOLD_MS', 0, 0),
      deadlinePollMs: int('DEADLINE_POLL_INTERVAL_MS', 1_000, 10),
      deadlineLeaseMs: int('DEADLINE_LEASE_MS', 30_000, 100),
    }),
  start: (config, log) =>
    createCommandService(
      {
        ...config,
        delays: {
          reservationHold: config.reservationHoldMs || config.reservationHoldMinutes * 60_000,
        },
      },
      hotelAggregates,
      log,
    ),
});
