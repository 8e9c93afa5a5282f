import {
  contractDifferences,
  contractRoutes,
  createTestIndexPrefix,
  createTestVhost,
} from '@cqrs/testing';
import pino from 'pino';
import { createQueryService } from './service';

jest.setTimeout(60_000);

describe('docs/api.md "Query service" and the OpenAPI document', () => {
  it('name the same routes with the same status codes', async () => {
    const [es, vhost] = await Promise.all([
      createTestIndexPrefix('contract'),
      createTestVhost('contract'),
    ]);
    // The API role only: the document lists every route; no event is consumed, no MySQL query runs.
    const service = await createQueryService(
      {
        elasticsearchUrl: es.url,
        indexPrefix: es.prefix,
        amqpUrl: vhost.url,
        eventsExchange: 'events',
        mysqlUrl: 'mysql://root@127.0.0.1:3306/unused',
        adminToken: undefined,
        roles: { api: true, projector: false },
        prefetch: 10,
        batchDelayMs: 5,
      },
      pino({ level: 'silent' }),
    );
    try {
      await service.app.ready();
      expect(contractDifferences(service.app.swagger(), contractRoutes('Query service'))).toEqual(
        [],
      );
    } finally {
      await service.close();
      await Promise.all([es.drop(), vhost.drop()]);
    }
  });
});
