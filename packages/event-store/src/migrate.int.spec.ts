import { createTestDatabase, type TestDatabase } from '@cqrs/testing';
import { createKnex, migrate } from './index';

describe('migrate', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('es_migrate');
  });
  afterAll(() => db.drop());

  it('brings a fresh database up to date when several processes start at once', async () => {
    const processes = Array.from({ length: 3 }, () => createKnex(db.url, { poolMax: 2 }));
    try {
      await Promise.all(processes.map((knex) => migrate(knex)));
    } finally {
      await Promise.all(processes.map((knex) => knex.destroy()));
    }
    const [tables] = (await db.knex.raw('SHOW TABLES')) as [Record<string, string>[]];
    expect(tables.map((t) => Object.values(t)[0]).sort()).toEqual(
      expect.arrayContaining([
        'claims',
        'deadlines',
        'events',
        'instances',
        'idempotency_keys',
        'outbox',
        'snapshots',
      ]),
    );
    const [applied] = (await db.knex.raw('SELECT name FROM schema_migrations ORDER BY id')) as [
      { name: string }[],
    ];
    expect(applied.map((m) => m.name)).toEqual([
      '001_events_and_outbox',
      '002_idempotency_keys',
      '003_snapshots',
      '004_outbox_parked',
      '005_claims_and_deadlines',
      '006_instances',
    ]);
  });
});
