import type { AggregateRegistry, AggregateRuntime, CommandHandling } from '@cqrs/aggregates';
import type { EventStorePort, IdempotencyGate } from '@cqrs/core';
import { createHttpServer, type HttpServer } from '@cqrs/http';
import type { FastifyBaseLogger } from 'fastify';
import type { Registry } from 'prom-client';
import { aggregateRoutes } from './routes/aggregates';
import { commandRoutes } from './routes/commands';

export interface CommandAppOptions {
  readonly runtime: AggregateRuntime;
  readonly store: Pick<EventStorePort, 'readStream'> & IdempotencyGate;
  readonly aggregates: AggregateRegistry;
  readonly logger: FastifyBaseLogger;
  readonly metrics: Registry;
  /** Counts commands answered before the runtime (see metrics.ts). */
  readonly recordEdge?: CommandHandling['recordEdge'];
  /** Resolves when the event store's database answers. */
  readonly checkDatabase: () => Promise<unknown>;
  /** When set, every command and aggregate route needs `Authorization: Bearer <apiToken>`. */
  readonly apiToken?: string;
}

/** 64 KiB: docs/api.md's body limit. */
export const BODY_LIMIT = 64 * 1024;

/** The command API: shared server (errors, /health, /metrics, /docs) plus the route plugins. */
export async function buildCommandApp(opts: CommandAppOptions): Promise<HttpServer> {
  const app = await createHttpServer({
    name: 'command-service',
    description:
      'Commands to the hotel aggregates (customer, room, reservation) and their write-side state',
    logger: opts.logger,
    metrics: opts.metrics,
    bodyLimit: BODY_LIMIT,
    // Any id the URL can carry reaches validation and gets a 400, not a router 404.
    maxParamLength: 16 * 1024,
    healthChecks: { mysql: opts.checkDatabase },
  });
  const auth = opts.apiToken !== undefined ? { apiToken: opts.apiToken } : {};
  await app.register(commandRoutes, {
    handling: {
      runtime: opts.runtime,
      aggregates: opts.aggregates,
      idempotency: opts.store,
      log: opts.logger,
      ...(opts.recordEdge ? { recordEdge: opts.recordEdge } : {}),
    },
    aggregates: opts.aggregates,
    ...auth,
  });
  await app.register(aggregateRoutes, {
    runtime: opts.runtime,
    store: opts.store,
    aggregates: opts.aggregates,
    ...auth,
  });
  return app;
}
