import { ConfirmPublisher, connectAmqp, type AmqpConnection } from '@cqrs/amqp';
import { createKnex, migrate } from '@cqrs/event-store';
import {
  createTestDatabase,
  createTestVhost,
  waitUntil,
  type TestDatabase,
  type TestVhost,
} from '@cqrs/testing';
import type { Knex } from 'knex';
import pino from 'pino';
import { MySqlLeaderLock } from './leader-lock';
import { OutboxRelay } from './outbox-relay';
import { outboxStats, purgePublished } from './outbox-store';
import { interleavedEvents, recordEvents, seedOutbox, type Recorder } from './testing';

const logger = pino({ level: 'silent' });
const EXCHANGE = 'events';
// Jest ignores `testTimeout` inside `projects`; bound the slow cases here.
jest.setTimeout(30_000);

describe('OutboxRelay on MariaDB and RabbitMQ', () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  let knex: Knex;
  let conn: AmqpConnection;
  let recorder: Recorder;
  let relay: OutboxRelay;
  let lock: MySqlLeaderLock;
  let publisher: ConfirmPublisher;

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase('relay'), createTestVhost('relay')]);
    knex = createKnex(db.url);
    await migrate(knex);
    conn = await connectAmqp({
      url: vhost.url,
      name: 'relay-test',
      logger,
      eventsExchange: EXCHANGE,
    });
    await conn.waitForConnect();
    recorder = await recordEvents(conn, EXCHANGE, 'recorder', logger);
    await waitUntil('recorder consuming', () => recorder.consumer.isConsuming);
    lock = new MySqlLeaderLock({ url: db.url, logger });
    publisher = new ConfirmPublisher(conn, { logger, maxInFlight: 128, confirmTimeoutMs: 5000 });
    // Small pages: every test runs through many pages, read-ahead and restarted sweeps.
    relay = new OutboxRelay({ knex, lock, publisher, exchange: EXCHANGE, logger, batchSize: 37 });
    relay.start();
    await waitUntil('leading', () => lock.isLeader);
  });
  afterAll(async () => {
    await relay?.stop();
    await lock?.stop();
    await publisher?.close();
    await recorder?.stop();
    await conn?.close();
    await knex?.destroy();
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  const versionsOf = (prefix: string) =>
    [...recorder.firstArrivalVersions()].filter(([k]) => k.startsWith(`room:${prefix}`));

  it('publishes 1000 events of 50 interleaved streams in version order per stream, per the contract', async () => {
    const events = interleavedEvents(50, 20, 'room', 'order-');
    const ids: string[] = [];
    for (let i = 0; i < events.length; i += 25) {
      ids.push(...(await seedOutbox(knex, events.slice(i, i + 25))));
    }
    await waitUntil('all 1000 delivered', () => ids.every((id) => recorder.distinct.has(id)));

    const streams = versionsOf('order-');
    expect(streams).toHaveLength(50);
    for (const [, versions] of streams) expect(versions).toEqual([...Array(21).keys()].slice(1));
    // Without a failure nothing is sent twice: rows the scan meets again while in flight or
    // awaiting their mark are not re-published.
    await waitUntil('all marked published', async () => (await outboxStats(knex)).backlog === 0);
    const ours = recorder.messages.filter((r) => r.body.streamId.startsWith('order-'));
    expect(ours).toHaveLength(1000);

    const m = recorder.messages.find((r) => r.messageId === ids[0])!;
    expect(m.routingKey).toBe('room.RoomRateChanged');
    expect(m.properties).toMatchObject({
      contentType: 'application/json',
      deliveryMode: 2,
      messageId: ids[0],
      type: 'RoomRateChanged',
      headers: expect.objectContaining({
        'stream-type': 'room',
        'stream-id': 'order-0',
        'stream-version': 1,
        position: m.body.position,
        'correlation-id': ids[0],
        'causation-id': ids[0],
      }),
    });
    expect(typeof m.properties.timestamp).toBe('number');
    expect(Object.keys(m.body).sort()).toEqual(
      [
        'data',
        'eventId',
        'metadata',
        'occurredAt',
        'position',
        'schemaVersion',
        'streamId',
        'streamType',
        'type',
        'version',
      ].sort(),
    );
    await waitUntil('all marked published', async () => (await outboxStats(knex)).backlog === 0);
  });

  it('recovers when the broker drops its connections mid-burst: nothing lost, order kept', async () => {
    await waitUntil(
      'connection known to the management API',
      async () => (await vhost.listConnections()).length > 0,
    );
    // One big commit, so that the relay has a backlog when the connections drop.
    const events = interleavedEvents(50, 60, 'room', 'drop-');
    const ids = await seedOutbox(knex, events);
    await waitUntil('burst under way', () => versionsOf('drop-').length > 0, 15_000, 5);
    await waitUntil('connections dropped', async () => (await vhost.closeConnections()) > 0);
    await waitUntil(
      'all 3000 delivered',
      () => ids.every((id) => recorder.distinct.has(id)),
      30_000,
    );
    for (const [, versions] of versionsOf('drop-')) {
      expect(versions).toEqual([...Array(61).keys()].slice(1));
    }
    // Duplicates are possible (at least once); each carries the same messageId and body.
    const bodies = new Map<string, string>();
    for (const m of recorder.messages) {
      const body = JSON.stringify(m.body);
      expect(bodies.get(m.messageId) ?? body).toBe(body);
      bodies.set(m.messageId, body);
    }
  });

  it('publishes rows whose transactions commit after rows with higher ids', async () => {
    const early = await knex.transaction();
    const [lowId] = await seedOutbox(early, [
      { streamType: 'room', streamId: 'late-a', version: 1, type: 'RoomRegistered' },
    ]);
    const [highId] = await seedOutbox(knex, [
      { streamType: 'room', streamId: 'late-b', version: 1, type: 'RoomRegistered' },
    ]);
    await waitUntil('the higher id published', () => recorder.distinct.has(highId!));
    await early.commit();
    await waitUntil('the lower id published as well', () => recorder.distinct.has(lowId!));

    // And many writers at once, each holding its transaction open a random while.
    const writers = Array.from({ length: 10 }, (_, w) =>
      knex.transaction(async (trx) => {
        const ids: string[] = [];
        for (let v = 1; v <= 20; v++) {
          ids.push(
            ...(await seedOutbox(trx, [
              { streamType: 'room', streamId: `writer-${w}`, version: v, type: 'RoomRateChanged' },
            ])),
          );
          await new Promise((r) => setTimeout(r, Math.random() * 3));
        }
        return ids;
      }),
    );
    const ids = (await Promise.all(writers)).flat();
    await waitUntil('every concurrent row published', () =>
      ids.every((id) => recorder.distinct.has(id)),
    );
    for (const [, versions] of versionsOf('writer-')) {
      expect(versions).toEqual([...Array(21).keys()].slice(1));
    }
  });

  it('never skips a nacked row: retries from it, and each stream stays in order in the nacking queue', async () => {
    // A queue that refuses messages when full: the broker nacks those publishes.
    const ch = await conn.createChannel();
    await ch.assertQueue('full', {
      durable: true,
      arguments: { 'x-max-length': 5, 'x-overflow': 'reject-publish' },
    });
    await ch.bindQueue('full', EXCHANGE, 'nacked.#');
    const ids = await seedOutbox(knex, interleavedEvents(3, 10, 'nacked', 'n-'));

    const got: Array<{ id: string; stream: string; version: number }> = [];
    await waitUntil(
      'all 30 through the full queue',
      async () => {
        // Let the relay run into the limit (nacks) before making room.
        await waitUntil(
          'queue full, or everything accepted',
          async () =>
            (await ch.checkQueue('full')).messageCount === 5 ||
            ids.every((id) => recorder.distinct.has(id)),
          5000,
          5,
        );
        for (
          let m = await ch.get('full', { noAck: true });
          m;
          m = await ch.get('full', { noAck: true })
        ) {
          const body = JSON.parse(m.content.toString()) as { streamId: string; version: number };
          got.push({
            id: m.properties.messageId as string,
            stream: body.streamId,
            version: body.version,
          });
        }
        return new Set(got.map((g) => g.id)).size === 30;
      },
      25_000,
      0,
    );
    await ch.deleteQueue('full');
    await ch.close();

    expect(ids.every((id) => recorder.distinct.has(id))).toBe(true);
    // Nacks did happen: the recorder's queue accepted those messages, and got them again.
    const nacked = recorder.messages.filter((m) => m.body.streamType === 'nacked');
    expect(nacked.length).toBeGreaterThan(30);
    for (const stream of ['n-0', 'n-1', 'n-2']) {
      const versions = got.filter((g) => g.stream === stream).map((g) => g.version);
      expect([...new Set(versions)]).toEqual([...Array(11).keys()].slice(1));
      // No version arrives before its predecessor, not even transiently.
      expect(versions).toEqual([...versions].sort((x, y) => x - y));
    }
  });

  it('purges rows published longer ago than the retention, in small batches', async () => {
    await waitUntil('backlog drained', async () => (await outboxStats(knex)).backlog === 0);
    await knex.raw('UPDATE outbox SET published_at = NOW(6) - INTERVAL 2 DAY WHERE id % 2 = 0');
    const old = Number(
      (
        (await knex.raw(
          'SELECT COUNT(*) AS n FROM outbox WHERE published_at < NOW(6) - INTERVAL 1 DAY',
        )) as [{ n: number }[]]
      )[0][0]!.n,
    );
    expect(old).toBeGreaterThan(100);
    expect(await purgePublished(knex, 86_400, 100)).toBe(100);
    let total = 100;
    for (let n = 100; n === 100; total += n) n = await purgePublished(knex, 86_400, 100);
    expect(total).toBe(old);
    const [rows] = (await knex.raw('SELECT COUNT(*) AS n FROM outbox')) as [{ n: number }[]];
    expect(Number(rows[0]!.n)).toBeGreaterThan(0);
  });
});
