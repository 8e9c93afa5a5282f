import {
  ConcurrencyConflictError,
  IdempotencyConflictError,
  ValidationError,
  type AppendRequest,
  type AppendResult,
  type Clock,
} from '@cqrs/core';
import { createTestDatabase, type TestDatabase } from '@cqrs/testing';
import type { Knex } from 'knex';
import { createKnex, migrate, MySqlEventStore, parseJsonColumn, toOutboxMessage } from './index';

class TestClock implements Clock {
  constructor(private t = Date.parse('2026-11-21T10:00:00.123Z')) {}
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

const request = (streamId: string, expectedVersion: number, n = 1): AppendRequest => ({
  streamType: 'room',
  streamId,
  expectedVersion,
  events: Array.from({ length: n }, (_, i) => ({
    type: i === 0 && expectedVersion === 0 ? 'RoomRegistered' : 'RoomRateChanged',
    data: { ratePerNight: 100 + expectedVersion + i },
  })),
  metadata: { correlationId: `corr-${streamId}`, causationId: `req-${streamId}` },
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** Events without their outbox row, and streams whose versions are not 1..n. */
async function integrityProblems(knex: Knex) {
  const [orphans] = (await knex.raw(
    `SELECT COUNT(*) AS n FROM events e LEFT JOIN outbox o ON o.event_id = e.event_id
     WHERE o.id IS NULL`,
  )) as [{ n: number | string }[]];
  const [strays] = (await knex.raw(
    `SELECT COUNT(*) AS n FROM outbox o LEFT JOIN events e ON e.event_id = o.event_id
     WHERE e.position IS NULL`,
  )) as [{ n: number | string }[]];
  const [gaps] = (await knex.raw(
    `SELECT COUNT(*) AS n FROM (
       SELECT stream_type, stream_id FROM events GROUP BY stream_type, stream_id
       HAVING MIN(version) <> 1 OR MAX(version) <> COUNT(*)) s`,
  )) as [{ n: number | string }[]];
  return {
    eventsWithoutOutbox: Number(orphans[0]!.n),
    outboxWithoutEvent: Number(strays[0]!.n),
    streamsWithGaps: Number(gaps[0]!.n),
  };
}

describe('MySqlEventStore', () => {
  let db: TestDatabase;
  let knex: Knex;
  let clock: TestClock;
  let store: MySqlEventStore;

  beforeAll(async () => {
    db = await createTestDatabase('es_store');
    knex = createKnex(db.url, { poolMax: 12 });
    await migrate(knex);
    clock = new TestClock();
    store = new MySqlEventStore(knex, {
      clock,
      idempotencyLeaseMs: 5_000,
      idempotencyTtlMs: 60_000,
    });
  });
  afterAll(async () => {
    await knex.destroy();
    await db.drop();
  });

  describe('append', () => {
    it('stores events with consecutive positions and the outbox row of each, in one go', async () => {
      const result = await store.appendToStream(request('a-1', 0, 3));
      expect(result.version).toBe(3);
      expect(result.events.map((e) => e.version)).toEqual([1, 2, 3]);
      const positions = result.events.map((e) => BigInt(e.position));
      expect(positions[1]! - positions[0]!).toBe(1n);
      expect(positions[2]! - positions[1]!).toBe(1n);
      expect(result.position).toBe(result.events[2]!.position);

      const stream = await store.readStream('room', 'a-1');
      expect(stream.map((e) => [e.eventId, e.version, e.position])).toEqual(
        result.events.map((e) => [e.eventId, e.version, e.position]),
      );
      expect(stream[0]!.occurredAt).toBe('2026-11-21T10:00:00.123000Z');
      expect(stream[0]!.metadata).toEqual({ correlationId: 'corr-a-1', causationId: 'req-a-1' });
      expect(stream[0]!.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);

      const [rows] = (await knex.raw(
        'SELECT event_id, event_type, routing_key, payload, headers, published_at FROM outbox ORDER BY id',
      )) as [Record<string, unknown>[]];
      expect(rows).toHaveLength(3);
      const first = rows[0]!;
      expect(first.routing_key).toBe('room.RoomRegistered');
      expect(first.published_at).toBeNull();
      // The payload is the message body exactly as readers get the event.
      expect(JSON.parse(first.payload as string)).toEqual(stream[0]);
      expect(parseJsonColumn(first.headers)).toEqual({
        'stream-type': 'room',
        'stream-id': 'a-1',
        'stream-version': 1,
        position: stream[0]!.position,
        'correlation-id': 'corr-a-1',
        'causation-id': 'req-a-1',
      });
    });

    it('continues a stream from the version the caller knows', async () => {
      const r = await store.appendToStream(request('a-1', 3));
      expect(r.version).toBe(4);
      expect(await store.currentVersion('room', 'a-1')).toBe(4);
    });

    it('turns a stale expected version into a ConcurrencyConflictError with the current version', async () => {
      const err = await rejection(store.appendToStream(request('a-1', 2)));
      expect(err).toBeInstanceOf(ConcurrencyConflictError);
      expect(err).toMatchObject({ expectedVersion: 2, currentVersion: 4 });
      const e0 = await rejection(store.appendToStream(request('a-1', 0)));
      expect(e0).toMatchObject({ currentVersion: 4 });
    });

    it('lets exactly one of many concurrent appends at the same version win', async () => {
      await store.appendToStream(request('race', 0));
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, () => store.appendToStream(request('race', 1))),
      );
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(9);
      for (const err of lost) {
        expect(err).toBeInstanceOf(ConcurrencyConflictError);
        expect((err as ConcurrencyConflictError).currentVersion).toBe(2);
      }
      expect((await store.readStream('room', 'race')).map((e) => e.version)).toEqual([1, 2]);
    });

    it('refuses malformed requests before touching the database', async () => {
      await expect(store.appendToStream({ ...request('bad id!', 0) })).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(store.appendToStream({ ...request('x', 0), events: [] })).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(store.appendToStream(request('x', -1))).rejects.toBeInstanceOf(ValidationError);
    });
  });

  describe('idempotency', () => {
    it('replays the original result for the same key and request, appending nothing', async () => {
      const claim = await store.claimIdempotencyKey('key-1', 'fp-1');
      expect(claim.kind).toBe('claimed');
      const first = await store.appendToStream({
        ...request('idem-1', 0),
        idempotency: { key: 'key-1', fingerprint: 'fp-1' },
      });
      const again = await store.claimIdempotencyKey('key-1', 'fp-1');
      expect(again).toEqual({
        kind: 'replay',
        record: { key: 'key-1', fingerprint: 'fp-1', result: first },
      });
      expect(await store.findIdempotencyRecord('key-1')).toEqual({
        key: 'key-1',
        fingerprint: 'fp-1',
        result: first,
      });
      // Appending again under the key (a runtime that did not claim) replays too.
      const replayed = await store.appendToStream({
        ...request('idem-1', 1),
        idempotency: { key: 'key-1', fingerprint: 'fp-1' },
      });
      expect(replayed).toEqual(first);
      expect(await store.currentVersion('room', 'idem-1')).toBe(1);
    });

    it('refuses the same key with another request (mismatch) and rolls the append back', async () => {
      await expect(store.claimIdempotencyKey('key-1', 'fp-other')).rejects.toMatchObject({
        kind: 'mismatch',
      });
      const err = await rejection(
        store.appendToStream({
          ...request('idem-2', 0),
          idempotency: { key: 'key-1', fingerprint: 'fp-other' },
        }),
      );
      expect(err).toBeInstanceOf(IdempotencyConflictError);
      expect(err).toMatchObject({ kind: 'mismatch' });
      expect(await store.readStream('room', 'idem-2')).toEqual([]);
      expect(await integrityProblems(knex)).toEqual({
        eventsWithoutOutbox: 0,
        outboxWithoutEvent: 0,
        streamsWithGaps: 0,
      });
    });

    it('answers in-flight while the key is claimed, and frees it on release', async () => {
      const claim = await store.claimIdempotencyKey('key-2', 'fp-2');
      await expect(store.claimIdempotencyKey('key-2', 'fp-2')).rejects.toMatchObject({
        kind: 'in-flight',
      });
      if (claim.kind !== 'claimed') throw new Error('expected a claim');
      await store.releaseIdempotencyKey(claim);
      expect((await store.claimIdempotencyKey('key-2', 'fp-2')).kind).toBe('claimed');
    });

    it('lets a new request take over a key whose claimer crashed, once the lease ran out', async () => {
      const stale = await store.claimIdempotencyKey('key-3', 'fp-3');
      clock.advance(5_001);
      const fresh = await store.claimIdempotencyKey('key-3', 'fp-3');
      expect(fresh.kind).toBe('claimed');
      // The stale claimer cannot release the new claim.
      if (stale.kind !== 'claimed' || fresh.kind !== 'claimed') throw new Error('expected claims');
      await store.releaseIdempotencyKey(stale);
      await expect(store.claimIdempotencyKey('key-3', 'fp-3')).rejects.toMatchObject({
        kind: 'in-flight',
      });
    });

    it('under concurrency appends once per key: the rest see in-flight or the original result', async () => {
      const attempt = async (): Promise<AppendResult | string> => {
        try {
          const claim = await store.claimIdempotencyKey('key-4', 'fp-4');
          if (claim.kind === 'replay') return claim.record.result;
          return await store.appendToStream({
            ...request('idem-4', 0),
            idempotency: { key: 'key-4', fingerprint: 'fp-4' },
          });
        } catch (err) {
          if (err instanceof IdempotencyConflictError) return err.kind;
          throw err;
        }
      };
      const outcomes = await Promise.all(Array.from({ length: 10 }, attempt));
      const results = outcomes.filter((o): o is AppendResult => typeof o !== 'string');
      expect(results.length).toBeGreaterThanOrEqual(1);
      expect(new Set(results.map((r) => r.events[0]!.eventId)).size).toBe(1);
      expect(outcomes.filter((o) => typeof o === 'string').every((o) => o === 'in-flight')).toBe(
        true,
      );
      expect(await store.currentVersion('room', 'idem-4')).toBe(1);
    });

    it('appends once when racing appends carry one key without claiming it first', async () => {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          store.appendToStream({
            ...request(`idem-5-${i}`, 0),
            idempotency: { key: 'key-5', fingerprint: 'fp-5' },
          }),
        ),
      );
      // Losers wait for the winner's key row, then replay its result.
      expect(outcomes.map((o) => o.status)).toEqual(Array(8).fill('fulfilled'));
      const results = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      expect(new Set(results.map((r) => r.events[0]!.eventId)).size).toBe(1);
      const [rows] = (await knex.raw(
        "SELECT COUNT(DISTINCT stream_id) AS n FROM events WHERE stream_id LIKE 'idem-5-%'",
      )) as [{ n: number | string }[]];
      expect(Number(rows[0]!.n)).toBe(1);
    });

    it('forgets keys after their time to live and purges them', async () => {
      await store.claimIdempotencyKey('key-6', 'fp-6');
      clock.advance(60_001);
      expect(await store.findIdempotencyRecord('key-1')).toBeUndefined();
      expect((await store.claimIdempotencyKey('key-1', 'fp-new')).kind).toBe('claimed');
      expect(await store.purgeExpiredIdempotencyKeys(2)).toBeGreaterThanOrEqual(3);
      const [rows] = (await knex.raw(
        "SELECT idempotency_key AS k FROM idempotency_keys WHERE idempotency_key IN ('key-1', 'key-6')",
      )) as [{ k: string }[]];
      expect(rows.map((r) => r.k)).toEqual(['key-1']);
    });
  });

  describe('snapshots', () => {
    it('keeps the newest snapshot of a stream, whatever order saves arrive in', async () => {
      expect(await store.loadSnapshot('room', 's-1')).toBeUndefined();
      const snap = (version: number) => ({
        streamType: 'room',
        streamId: 's-1',
        version,
        schemaVersion: 1,
        state: { value: 'available', context: { ratePerNight: version } },
      });
      await store.saveSnapshot(snap(10));
      await store.saveSnapshot(snap(20));
      await store.saveSnapshot(snap(15));
      expect(await store.loadSnapshot('room', 's-1')).toEqual(snap(20));
    });
  });

  describe.each([
    ['as one query (multipleStatements)', true],
    ['statement by statement', false],
  ])('the append path %s', (_how, multipleStatements) => {
    // One connection: whatever a failed append leaves on it, the next append meets.
    let single: Knex;
    let one: MySqlEventStore;
    const tag = multipleStatements ? 'multi' : 'seq';
    beforeAll(() => {
      single = createKnex(db.url, { poolMax: 1, multipleStatements });
      one = new MySqlEventStore(single, { clock });
    });
    afterAll(() => single.destroy());

    it('gives every outbox row the position of its own event', async () => {
      const result = await one.appendToStream(request(`${tag}-pos`, 0, 3));
      const stream = await one.readStream('room', `${tag}-pos`);
      const [rows] = (await knex.raw(
        'SELECT event_id, payload, headers FROM outbox WHERE event_id IN (?, ?, ?) ORDER BY id',
        stream.map((e) => e.eventId),
      )) as [{ event_id: string; payload: string; headers: unknown }[]];
      expect(rows.map((r) => r.event_id)).toEqual(result.events.map((e) => e.eventId));
      stream.forEach((event, i) => {
        // Byte for byte what the relay publishes for the stored event.
        expect(rows[i]!.payload).toBe(toOutboxMessage(event).payload);
        expect(parseJsonColumn(rows[i]!.headers)).toEqual(toOutboxMessage(event).headers);
      });
    });

    it('rolls a lost race back on its connection, which then serves the next append', async () => {
      await one.appendToStream(request(`${tag}-race`, 0));
      await expect(one.appendToStream(request(`${tag}-race`, 0, 2))).rejects.toMatchObject({
        currentVersion: 1,
      });
      await one.appendToStream(request(`${tag}-race`, 1));
      // Committed: another connection sees it, and nothing of the lost append.
      expect(await store.currentVersion('room', `${tag}-race`)).toBe(2);
      const [open] = (await single.raw('SELECT @@in_transaction AS t')) as [{ t: unknown }[]];
      expect(Number(open[0]!.t)).toBe(0);
    });

    it('completes a claimed key with the result in the same transaction', async () => {
      const key = `${tag}-key`;
      expect((await one.claimIdempotencyKey(key, 'fp')).kind).toBe('claimed');
      const result = await one.appendToStream({
        ...request(`${tag}-idem`, 0, 2),
        idempotency: { key, fingerprint: 'fp' },
      });
      expect(await store.findIdempotencyRecord(key)).toEqual({ key, fingerprint: 'fp', result });
      // Without a claim the completed row is inserted; a taken key rolls the append back.
      const unclaimed = await one.appendToStream({
        ...request(`${tag}-idem-2`, 0),
        idempotency: { key: `${key}-2`, fingerprint: 'fp' },
      });
      expect((await store.findIdempotencyRecord(`${key}-2`))?.result).toEqual(unclaimed);
      await expect(
        one.appendToStream({
          ...request(`${tag}-idem-3`, 0),
          idempotency: { key: `${key}-2`, fingerprint: 'other' },
        }),
      ).rejects.toMatchObject({ kind: 'mismatch' });
      expect(await store.currentVersion('room', `${tag}-idem-3`)).toBe(0);
    });
  });

  it('never leaves an event without its outbox row, nor a gap in a stream', async () => {
    await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => store.appendToStream(request(`mix-${i % 4}`, 0, 2))),
    );
    expect(await integrityProblems(knex)).toEqual({
      eventsWithoutOutbox: 0,
      outboxWithoutEvent: 0,
      streamsWithGaps: 0,
    });
  });

  it('with { outbox: false } appends the events alone, still checking the expected version', async () => {
    const eventsOnly = new MySqlEventStore(knex, { clock, outbox: false });
    try {
      const result = await eventsOnly.appendToStream(request('bare-1', 0, 2));
      expect((await store.readStream('room', 'bare-1')).map((e) => e.position)).toEqual(
        result.events.map((e) => e.position),
      );
      const [rows] = (await knex.raw('SELECT COUNT(*) AS n FROM outbox WHERE event_id IN (?)', [
        result.events.map((e) => e.eventId),
      ])) as [{ n: number | string }[]];
      expect(Number(rows[0]!.n)).toBe(0);
      await expect(eventsOnly.appendToStream(request('bare-1', 1))).rejects.toMatchObject({
        currentVersion: 2,
      });
    } finally {
      // Events without outbox rows would fail the integrity check of any later test.
      await knex('events').where({ stream_type: 'room', stream_id: 'bare-1' }).delete();
    }
  });
});
