import { hotelAggregates } from '@cqrs/hotel';
import { contractDifferences, contractRoutes } from '@cqrs/testing';
import pino from 'pino';
import { Registry } from 'prom-client';
import { buildCommandApp } from './app';

describe('docs/api.md "Command service" and the OpenAPI document', () => {
  it('name the same routes with the same status codes', async () => {
    // Building the app registers every route; nothing here is called, so no database is needed.
    const app = await buildCommandApp({
      runtime: {} as never,
      store: {} as never,
      aggregates: hotelAggregates,
      logger: pino({ level: 'silent' }),
      metrics: new Registry(),
      checkDatabase: async () => undefined,
    });
    try {
      await app.ready();
      expect(contractDifferences(app.swagger(), contractRoutes('Command service'))).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('fails on a route or a status code that stands on one side only', () => {
    const doc = {
      paths: {
        '/health': { get: { responses: { '200': {}, '503': {} } } },
        '/extra': { get: { responses: { '200': {} } } },
      },
    };
    const contract = [
      { route: 'GET /health', statuses: [200], beingBuilt: false },
      { route: 'GET /gone', statuses: [200], beingBuilt: false },
      { route: 'GET /soon', statuses: [200], beingBuilt: true },
    ];
    expect(contractDifferences(doc, contract)).toEqual([
      'GET /extra is served but not in docs/api.md',
      'GET /health: docs/api.md lists 200, the OpenAPI document 200, 503',
      'GET /gone is in docs/api.md but not served',
    ]);
  });
});
