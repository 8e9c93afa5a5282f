import { hotelAggregates } from '@cqrs/hotel';
import { contractDifferences, contractRoutes } from '@cqrs/testing';
import pino from 'pino';
import { createConsoleService } from './service';

describe('docs/api.md "Console" and the OpenAPI document', () => {
  it('name the same routes', async () => {
    // Nothing is queried: the document lists the routes without touching MySQL or RabbitMQ.
    const service = await createConsoleService(
      {
        mysqlUrl: 'mysql://root@127.0.0.1:3306/unused',
        amqpUrl: 'amqp://guest:guest@127.0.0.1:5672',
        managementUrl: undefined,
        indexPrefix: 'contract',
        queryUrl: 'http://127.0.0.1:9',
        adminToken: undefined,
      },
      hotelAggregates,
      pino({ level: 'silent' }),
    );
    try {
      await service.app.ready();
      expect(contractDifferences(service.app.swagger(), contractRoutes('Console'))).toEqual([]);
    } finally {
      await service.close();
    }
  }, 30_000);
});
