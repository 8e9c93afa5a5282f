import { createKnex, migrate } from '@cqrs/event-store';
import { createTestDatabase, waitUntil, type TestDatabase } from '@cqrs/testing';
import pino from 'pino';
import { listInstances, startHeartbeat } from './index';

describe('instance registry', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('instances');
    const knex = createKnex(db.url, { poolMax: 2 });
    await migrate(knex);
    await knex.destroy();
  }, 60_000);
  afterAll(() => db.drop());

  it('lists a running instance with its current role and removes it on stop', async () => {
    let role = 'standby';
    const heartbeat = startHeartbeat({
      app: 'outbox-relay',
      mysqlUrl: db.url,
      port: 4321,
      role: () => role,
      intervalMs: 50,
      logger: pino({ level: 'silent' }),
    });
    try {
      const first = await waitUntil('the first beat', async () =>
        (await listInstances(db.knex)).find((i) => i.id === heartbeat.id),
      );
      expect(first).toMatchObject({
        app: 'outbox-relay',
        role: 'standby',
        url: 'http://127.0.0.1:4321',
        pid: process.pid,
      });
      expect(first.lastSeenSecondsAgo).toBeLessThan(5);
      role = 'leader';
      await waitUntil('the role to follow the process', async () =>
        (await listInstances(db.knex)).some((i) => i.id === heartbeat.id && i.role === 'leader')
          ? true
          : undefined,
      );
    } finally {
      await heartbeat.stop();
    }
    expect(await listInstances(db.knex)).toEqual([]);
  });
});
