import { commonEnv, port, readConfig } from '@cqrs/core';
import { createHttpServer, createLogger, exitOnStartupError, onShutdown } from '@cqrs/http';
import { Client } from '@elastic/elasticsearch';

/** Composition root of the query side: projector and search API. */
async function main(): Promise<void> {
  const log = createLogger('query-service', process.env.LOG_LEVEL);
  let config;
  try {
    config = readConfig({
      elasticsearchUrl: commonEnv.elasticsearchUrl,
      indexPrefix: commonEnv.indexPrefix,
      logLevel: commonEnv.logLevel,
      port: port('QUERY_PORT', 3001),
    });
  } catch (err) {
    exitOnStartupError(log, err);
  }
  const es = new Client({ node: config.elasticsearchUrl, requestTimeout: 10_000 });
  const app = await createHttpServer({
    name: 'query-service',
    description: 'Search over the hotel read models',
    logger: log,
    healthChecks: { elasticsearch: () => es.cluster.health({ timeout: '1s' }) },
  });
  onShutdown(log, [
    ['http', () => app.close()],
    ['elasticsearch', () => es.close()],
  ]);
  await app.listen({ port: config.port, host: '0.0.0.0' });
}

void main();
