import { createTestDatabase, type TestDatabase } from '@cqrs/testing';
import { createKnex, migrate, readAll, readStream, headPosition } from './index';
import type { Knex } from 'knex';

describe('event-store schema and readers', () => {
  let db: TestDatabase;
  let knex: Knex;
  beforeAll(async () => {
    db = await createTestDatabase('es_read');
    knex = createKnex(db.url);
    await migrate(knex);
    await migrate(knex); // idempotent
  });
  afterAll(async () => {
    await knex.destroy();
    await db.drop();
  });

  it('reads rows back as envelopes with microsecond timestamps and parsed JSON', async () => {
    await knex.raw(
      `INSERT INTO events (event_id, stream_type, stream_id, version, event_type, data, metadata, occurred_at)
       VALUES (?, 'room', 'r-1', 1, 'RoomRegistered', ?, ?, '2026-11-21 10:00:00.123456'),
              (?, 'room', 'r-1', 2, 'RoomRetired', '{}', '{}', '2026-11-21 10:00:01.000001')`,
      [
        '00000000-0000-7000-8000-000000000001',
        JSON.stringify({ hotel: 'H' }),
        JSON.stringify({ correlationId: 'c' }),
        '00000000-0000-7000-8000-000000000002',
      ],
    );
    const stream = await readStream(knex, 'room', 'r-1');
    expect(stream.map((e) => [e.version, e.type, e.occurredAt])).toEqual([
      [1, 'RoomRegistered', '2026-11-21T10:00:00.123456Z'],
      [2, 'RoomRetired', '2026-11-21T10:00:01.000001Z'],
    ]);
    expect(stream[0]!.data).toEqual({ hotel: 'H' });
    expect(stream[0]!.metadata).toEqual({ correlationId: 'c' });
    expect(await readStream(knex, 'room', 'r-1', 1)).toHaveLength(1);
    const all = await readAll(knex, { afterPosition: stream[0]!.position });
    expect(all.map((e) => e.eventId)).toEqual(['00000000-0000-7000-8000-000000000002']);
    expect(await headPosition(knex)).toBe(stream[1]!.position);
  });

  it('refuses a second event with the same stream version', async () => {
    await expect(
      knex.raw(
        `INSERT INTO events (event_id, stream_type, stream_id, version, event_type, data, metadata, occurred_at)
         VALUES (UUID(), 'room', 'r-1', 2, 'RoomRetired', '{}', '{}', NOW(6))`,
      ),
    ).rejects.toThrow(/Duplicate entry/);
  });
});
