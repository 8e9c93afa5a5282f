import type { AggregateRegistry } from '@cqrs/aggregates';
import {
  buildPage,
  consoleApiRoutes,
  managementUrlFor,
  pageRoutes,
  QueryAdminClient,
  vhostOf,
} from '@cqrs/console';
import { createKnex } from '@cqrs/event-store';
import { createHttpServer, type HttpServer } from '@cqrs/http';
import type { Logger } from 'pino';

export interface ConsoleConfig {
  readonly mysqlUrl: string;
  readonly amqpUrl: string;
  readonly managementUrl: string | undefined;
  readonly indexPrefix: string;
  readonly queryUrl: string;
  readonly adminToken: string | undefined;
}

export interface ConsoleService {
  readonly app: HttpServer;
  close(): Promise<void>;
}

/** Wires the operator console: the page, and its API over MySQL, RabbitMQ and the query service. */
export async function createConsoleService(
  config: ConsoleConfig,
  aggregates: AggregateRegistry,
  log: Logger,
): Promise<ConsoleService> {
  const knex = createKnex(config.mysqlUrl, { poolMax: 4 });
  const queryAdmin = new QueryAdminClient(config.queryUrl, config.adminToken);
  const projectorQueue = `${config.indexPrefix}.query-projector`;
  const page = await buildPage();
  const app = await createHttpServer({
    name: 'console',
    description: 'Operator console: what runs, how far behind, what failed',
    logger: log,
    healthChecks: { mysql: () => knex.raw('SELECT 1') },
  });
  await app.register(pageRoutes(page));
  await app.register(
    consoleApiRoutes({
      page,
      adminToken: config.adminToken,
      knex,
      aggregates,
      queryAdmin,
      system: {
        knex,
        managementUrl: managementUrlFor(config.amqpUrl, config.managementUrl),
        vhost: vhostOf(config.amqpUrl),
        queryAdmin,
        // The projector's partition queues (`<queue>.p<n>`, docs/scaling.md).
        isProjectorQueue: (name) =>
          name.startsWith(`${projectorQueue}.`) &&
          /^p\d+$/.test(name.slice(projectorQueue.length + 1)),
      },
    }),
  );
  return {
    app,
    async close() {
      await app.close();
      await knex.destroy();
    },
  };
}
