import { createTestDatabase, type TestDatabase } from '@cqrs/testing';

describe('MySQL-compatible database (smoke)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('smoke_mysql');
  });
  afterAll(() => db.drop());

  it('runs a Knex migration and reads back what it inserted, with JSON and microseconds', async () => {
    await db.knex.migrate.up({
      migrationSource: {
        getMigrations: async () => ['001_smoke'],
        getMigrationName: (m: string) => m,
        getMigration: async () => ({
          up: (k: typeof db.knex) =>
            k.schema.createTable('smoke', (t) => {
              t.bigIncrements('id');
              t.json('doc').notNullable();
              t.specificType('at', 'DATETIME(6)').notNullable();
            }),
          down: (k: typeof db.knex) => k.schema.dropTable('smoke'),
        }),
      },
    });
    const at = '2026-01-02 03:04:05.123456';
    await db.knex('smoke').insert({ doc: JSON.stringify({ hello: 'world' }), at });
    const [version] = await db.knex.raw('SELECT VERSION() AS v');
    const rows = await db
      .knex('smoke')
      .select('id', 'doc', db.knex.raw("DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f') AS at"));
    const doc = typeof rows[0].doc === 'string' ? JSON.parse(rows[0].doc) : rows[0].doc;
    console.log(
      `smoke: database ${(version as { v: string }[])[0]!.v} at ${db.url.replace(/\/\/[^@]*@/, '//')}`,
    );
    expect(doc).toEqual({ hello: 'world' });
    expect(rows[0].at).toBe(at);
  });
});
