import {
  ClaimConflictError,
  ConcurrencyConflictError,
  DependencyUnavailableError,
  IdempotencyConflictError,
  type AppendRequest,
  type AppendResult,
} from '@cqrs/core';
import { createTestDatabase, type TestDatabase } from '@cqrs/testing';
import type { Knex } from 'knex';
import { GroupCommitter } from './group-commit';
import { createKnex, migrate, MySqlEventStore } from './index';

const append = (
  streamId: string,
  expectedVersion: number,
  extra: Partial<AppendRequest> = {},
): AppendRequest => ({
  streamType: 'room',
  streamId,
  expectedVersion,
  events: [
    { type: 'RoomRateChanged', data: { ratePerNight: 100 + expectedVersion } },
    { type: 'RoomRateChanged', data: { ratePerNight: 200 + expectedVersion } },
  ],
  metadata: { correlationId: `corr-${streamId}` },
  ...extra,
});

const claiming = (scope: string, key: string) => ({ acquire: [{ scope, key }], release: [] });

/**
 * A transaction on its own connection holding a claim key: an append that wants the key waits
 * for it (and, with one group in flight, every append behind it queues).
 */
async function holdClaim(knex: Knex, scope: string, key: string) {
  const connection = await knex.client.acquireConnection();
  const run = (sql: string, values: unknown[] = []) =>
    new Promise<unknown>((resolve, reject) =>
      connection.query(sql, values, (err: Error | null, r: unknown) =>
        err ? reject(err) : resolve(r),
      ),
    );
  await run('START TRANSACTION');
  let released = false;
  await run(
    `INSERT INTO claims (scope, claim_key, owner_stream_type, owner_stream_id, claimed_at)
     VALUES (?, ?, 'room', 'holder', NOW(6))`,
    [scope, key],
  );
  const holder = {
    run,
    async release() {
      if (released) return;
      released = true;
      await run('ROLLBACK');
      await knex.client.releaseConnection(connection);
    },
  };
  holders.push(holder);
  return holder;
}

/** Every holder is released after its test, whatever happened (else knex.destroy waits). */
const holders: { release(): Promise<void> }[] = [];

/**
 * The connection id of an append waiting for a held claim in this database, once there is one:
 * a connection running a claims INSERT for 100 ms or more (an unhindered one takes well under
 * a millisecond). From PROCESSLIST, which is live - INNODB_TRX's lock states are a cached
 * snapshot that was seen here lagging by seconds (a finished append still "LOCK WAIT", the
 * waiting one "RUNNING"), so killing by it could hit an idle pooled connection.
 */
async function waitingConnection(knex: Knex): Promise<number> {
  for (let i = 0; i < 1200; i++) {
    const [rows] = (await knex.raw(
      `SELECT ID AS id FROM information_schema.PROCESSLIST
       WHERE DB = DATABASE() AND COMMAND = 'Query' AND ID <> CONNECTION_ID()
         AND INFO LIKE 'INSERT INTO claims%' AND TIME_MS >= 100`,
    )) as [{ id: number | string }[]];
    if (rows[0]) return Number(rows[0].id);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('no append waited for the held claim');
}

async function settle<T>(ps: Promise<T>[]) {
  return Promise.allSettled(ps);
}

/**
 * Records what this process sends from now on (until the test's mocks are restored): `sent()`
 * is the SQL of each query that wrote events, one string per round trip, in order.
 */
async function recordAppendQueries(knex: Knex): Promise<{ sent(): string[] }> {
  const connection = (await knex.client.acquireConnection()) as object;
  await knex.client.releaseConnection(connection);
  let proto = Object.getPrototypeOf(connection) as object;
  while (!Object.prototype.hasOwnProperty.call(proto, 'query'))
    proto = Object.getPrototypeOf(proto);
  const spy = jest.spyOn(proto as { query(sql: string): unknown }, 'query');
  return {
    sent: () =>
      spy.mock.calls.map((c) => String(c[0])).filter((sql) => sql.includes('INSERT INTO events')),
  };
}

/** How many times `part` occurs in `sql`. */
const count = (sql: string, part: string) => sql.split(part).length - 1;

describe('group commit', () => {
  let db: TestDatabase;
  let knex: Knex;
  let store: MySqlEventStore;
  let groups: number[];

  beforeAll(async () => {
    db = await createTestDatabase('es_group');
    knex = createKnex(db.url, { poolMax: 8 });
    await migrate(knex);
    // One transaction in flight: whatever arrives meanwhile shares the next one.
    store = new MySqlEventStore(knex, { groupCommit: { maxGroups: 1 } });
    await store.appendToStream(append('warm-up', 0));
  });
  beforeEach(() => {
    groups = [];
    const run = (GroupCommitter.prototype as unknown as { run: (g: unknown[]) => Promise<void> })
      .run;
    jest
      .spyOn(GroupCommitter.prototype as unknown as { run: typeof run }, 'run')
      .mockImplementation(function (this: GroupCommitter, group: unknown[]) {
        groups.push(group.length);
        return run.call(this, group);
      });
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    for (const h of holders.splice(0)) await h.release();
  });
  afterAll(async () => {
    await knex.destroy();
    await db.drop();
  });

  /** The positions of these streams' events in the order of their outbox rows. */
  async function outboxOrder(results: AppendResult[]): Promise<bigint[]> {
    const [rows] = (await knex.raw(
      `SELECT e.position FROM outbox o JOIN events e ON e.event_id = o.event_id
       WHERE e.stream_id IN (?) ORDER BY o.id`,
      [results.map((r) => r.streamId)],
    )) as [{ position: string | number }[]];
    return rows.map((r) => BigInt(r.position));
  }

  /** Events, outbox rows and payload positions agree for these streams. */
  async function expectDurable(results: AppendResult[]) {
    for (const r of results) {
      const stream = await store.readStream(r.streamType, r.streamId, r.events[0]!.version - 1);
      expect(stream.map((e) => [e.eventId, e.version, e.position])).toEqual(
        r.events.map((e) => [e.eventId, e.version, e.position]),
      );
      const [rows] = (await knex.raw(
        `SELECT o.payload, e.position FROM outbox o JOIN events e ON e.event_id = o.event_id
         WHERE e.event_id IN (?) ORDER BY e.position`,
        [r.events.map((e) => e.eventId)],
      )) as [{ payload: string; position: string | number }[]];
      expect(rows.map((o) => (JSON.parse(o.payload) as { position: string }).position)).toEqual(
        rows.map((o) => String(o.position)),
      );
      expect(rows).toHaveLength(r.events.length);
    }
  }

  it('gives every append of a group its own outcome: conflicts, taken claims and keys stay theirs', async () => {
    await store.appendToStream(append('race', 0));
    const claim = await store.claimIdempotencyKey('key-1', 'fp-1');
    if (claim.kind !== 'claimed') throw new Error('expected a claim');

    const gate = await holdClaim(knex, 'gate', 'g1');
    const gated = store.appendToStream(append('gated', 0, { claims: claiming('gate', 'g1') }));
    await waitingConnection(knex);
    // Everything below queues behind the gated append and goes in one transaction.
    const plain = Array.from({ length: 8 }, (_, i) =>
      store.appendToStream(append(`plain-${i}`, 0)),
    );
    const racing = Array.from({ length: 5 }, () => store.appendToStream(append('race', 2)));
    const nights = Array.from({ length: 4 }, (_, i) =>
      store.appendToStream(
        append(`booking-${i}`, 0, { claims: claiming('room-night', '101/2026-12-24') }),
      ),
    );
    const keyed = ['keyed-a', 'keyed-b', 'keyed-c'].map((id) =>
      store.appendToStream(append(id, 0, { idempotency: { key: 'key-1', fingerprint: 'fp-1' } })),
    );
    // A key nobody claimed: its UPDATE matches nothing, so it runs again mid-group with an
    // INSERT of the completed row.
    const unclaimed = store.appendToStream(
      append('keyed-unclaimed', 0, { idempotency: { key: 'key-2', fingerprint: 'fp-2' } }),
    );
    const more = Array.from({ length: 4 }, (_, i) => store.appendToStream(append(`more-${i}`, 0)));
    await new Promise((r) => setImmediate(r));
    await gate.release();

    await expect(gated).resolves.toMatchObject({ version: 2 });
    const plainResults = await Promise.all([...plain, ...more, unclaimed]);
    const raceOutcomes = await settle(racing);
    const nightOutcomes = await settle(nights);
    const keyedResults = await Promise.all(keyed);

    expect(groups[0]).toBe(1); // the gated append went alone, at once
    expect(Math.max(...groups)).toBeGreaterThan(1);

    const raceWins = raceOutcomes.filter((o) => o.status === 'fulfilled');
    expect(raceWins).toHaveLength(1);
    for (const o of raceOutcomes.filter((o) => o.status === 'rejected')) {
      expect(o.reason).toBeInstanceOf(ConcurrencyConflictError);
      expect(o.reason).toMatchObject({ expectedVersion: 2, currentVersion: 4 });
    }
    const nightWins = nightOutcomes.filter((o) => o.status === 'fulfilled');
    expect(nightWins).toHaveLength(1);
    for (const o of nightOutcomes.filter((o) => o.status === 'rejected')) {
      expect(o.reason).toBeInstanceOf(ClaimConflictError);
      expect(o.reason).toMatchObject({ taken: [{ scope: 'room-night', key: '101/2026-12-24' }] });
    }
    // One key, three appends: one landed, the others replay its result.
    expect(new Set(keyedResults.map((r) => JSON.stringify(r))).size).toBe(1);
    const keyedStreams = await Promise.all(
      ['keyed-a', 'keyed-b', 'keyed-c'].map((id) => store.currentVersion('room', id)),
    );
    expect(keyedStreams.filter((v) => v === 2)).toHaveLength(1);
    expect(keyedStreams.filter((v) => v === 0)).toHaveLength(2);
    expect(await store.findIdempotencyRecord('key-1')).toMatchObject({
      result: keyedResults[0],
    });
    expect(await store.findIdempotencyRecord('key-2')).toMatchObject({
      result: plainResults[plainResults.length - 1],
    });

    const successes = [
      ...plainResults,
      keyedResults[0]!,
      ...raceWins.map((o) => (o as PromiseFulfilledResult<AppendResult>).value),
      ...nightWins.map((o) => (o as PromiseFulfilledResult<AppendResult>).value),
    ];
    expect(new Set(successes.flatMap((r) => r.events.map((e) => e.position))).size).toBe(
      successes.length * 2,
    );
    await expectDurable(successes);
    const [held] = (await knex.raw(
      `SELECT owner_stream_id AS owner FROM claims WHERE scope = 'room-night'`,
    )) as [{ owner: string }[]];
    expect(held).toEqual([
      { owner: (nightWins[0] as PromiseFulfilledResult<AppendResult>).value.streamId },
    ]);
  });

  /**
   * Runs `appends` as one group: a lone append waits for a held claim meanwhile (one group in
   * flight), and they queue behind it. Resolves their outcomes, in order.
   */
  async function asOneGroup(
    target: MySqlEventStore,
    gateKey: string,
    appends: (() => Promise<AppendResult>)[],
  ) {
    const gate = await holdClaim(knex, 'gate', gateKey);
    const gated = target.appendToStream(
      append(`gated-${gateKey}`, 0, { claims: claiming('gate', gateKey) }),
    );
    await waitingConnection(knex);
    const group = appends.map((a) => a());
    await new Promise((r) => setImmediate(r));
    await gate.release();
    await gated;
    return settle(group);
  }

  const fulfilled = (outcomes: PromiseSettledResult<AppendResult>[]) =>
    outcomes.map((o) => (o as PromiseFulfilledResult<AppendResult>).value);

  it('sends a group merged: one events INSERT and one outbox INSERT, positions in order, keys completed', async () => {
    const queries = await recordAppendQueries(knex);
    const claim = await store.claimIdempotencyKey('merged-key', 'fp-m');
    if (claim.kind !== 'claimed') throw new Error('expected a claim');
    const ids = Array.from({ length: 6 }, (_, i) => `merged-${i}`);
    const outcomes = await asOneGroup(store, 'm1', [
      ...ids.map((id) => () => store.appendToStream(append(id, 0))),
      () =>
        store.appendToStream(
          append('merged-keyed', 0, { idempotency: { key: 'merged-key', fingerprint: 'fp-m' } }),
        ),
      () => store.appendToStream(append('merged-claim', 0, { claims: claiming('merged', 'm') })),
    ]);
    const results = fulfilled(outcomes);

    expect(groups).toEqual([1, 8]);
    const sent = queries.sent();
    expect(sent).toHaveLength(2); // the gated append alone, then the group in one query
    expect(count(sent[1]!, 'INSERT INTO events')).toBe(1);
    expect(count(sent[1]!, 'INSERT INTO outbox')).toBe(1);
    expect(sent[1]).not.toContain('SAVEPOINT');
    const [[{ step }]] = (await knex.raw('SELECT @@auto_increment_increment AS step')) as [
      [{ step: number | string }],
    ];
    const positions = results.flatMap((r) => r.events.map((e) => BigInt(e.position)));
    expect(positions).toEqual(positions.map((_, i) => positions[0]! + BigInt(i) * BigInt(step)));
    await expectDurable(results);
    expect(await outboxOrder(results)).toEqual(positions);
    expect(await store.findIdempotencyRecord('merged-key')).toMatchObject({ result: results[6] });
    const [held] = (await knex.raw(
      `SELECT owner_stream_id AS owner FROM claims WHERE scope = 'merged'`,
    )) as [{ owner: string }[]];
    expect(held).toEqual([{ owner: 'merged-claim' }]);
  });

  it.each([
    {
      failure: 'a conflicting append',
      before: () => store.appendToStream(append('fb-race', 0)),
      failing: () => store.appendToStream(append('fb-race', 0)),
      error: ConcurrencyConflictError,
    },
    {
      failure: 'a taken claim',
      before: () => store.appendToStream(append('fb-holder', 0, { claims: claiming('fb', 'k') })),
      failing: () => store.appendToStream(append('fb-taker', 0, { claims: claiming('fb', 'k') })),
      error: ClaimConflictError,
    },
    {
      failure: 'a key another request completed',
      before: () =>
        store.appendToStream(
          append('fb-key-owner', 0, { idempotency: { key: 'fb-key', fingerprint: 'fp-a' } }),
        ),
      failing: () =>
        store.appendToStream(
          append('fb-key-other', 0, { idempotency: { key: 'fb-key', fingerprint: 'fp-b' } }),
        ),
      error: IdempotencyConflictError,
    },
  ])(
    'gives a merged group with $failure a savepoint per append: only that append fails',
    async ({ failure, before, failing, error }) => {
      await before();
      groups.length = 0;
      const queries = await recordAppendQueries(knex);
      const tag = failure.replace(/\W/g, '');
      const appends = Array.from(
        { length: 6 },
        (_, i) => () => store.appendToStream(append(`${tag}-${i}`, 0)),
      );
      const outcomes = await asOneGroup(store, tag, [
        ...appends.slice(0, 3),
        failing,
        ...appends.slice(3),
      ]);

      expect(groups).toEqual([1, 7]);
      expect(outcomes[3]).toMatchObject({ status: 'rejected' });
      expect((outcomes[3] as PromiseRejectedResult).reason).toBeInstanceOf(error);
      const others = [...outcomes.slice(0, 3), ...outcomes.slice(4)];
      expect(others.map((o) => o.status)).toEqual(Array(6).fill('fulfilled'));
      const results = fulfilled(others);
      const positions = results.flatMap((r) => r.events.map((e) => BigInt(e.position)));
      expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);
      await expectDurable(results);
      expect(await outboxOrder(results)).toEqual(positions);
      // The merged attempt, then the same transaction again savepoint by savepoint.
      const sent = queries.sent();
      expect(sent[1]).not.toContain('SAVEPOINT');
      expect(sent[2]).toMatch(/^ROLLBACK;\s*START TRANSACTION;\s*SAVEPOINT a0;/);
    },
  );

  it('sends a merged group of events alone as one INSERT without a transaction', async () => {
    const eventsOnly = new MySqlEventStore(knex, { outbox: false, groupCommit: { maxGroups: 1 } });
    await eventsOnly.appendToStream(append('eo-race', 0));
    groups.length = 0;
    const queries = await recordAppendQueries(knex);
    const clean = await asOneGroup(
      eventsOnly,
      'eo-1',
      ['eo-0', 'eo-1', 'eo-2'].map((id) => () => eventsOnly.appendToStream(append(id, 0))),
    );
    const conflicting = await asOneGroup(
      eventsOnly,
      'eo-2',
      ['eo-3', 'eo-race', 'eo-4'].map((id) => () => eventsOnly.appendToStream(append(id, 0))),
    );

    expect(groups).toEqual([1, 3, 1, 3]);
    expect(clean.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(conflicting.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((conflicting[1] as PromiseRejectedResult).reason).toBeInstanceOf(
      ConcurrencyConflictError,
    );
    const sent = queries.sent();
    expect(sent[1]).toMatch(/^INSERT INTO events/);
    expect(count(sent[1]!, 'INSERT INTO')).toBe(1);
    expect(sent[3]).toMatch(/^INSERT INTO events/); // merged, failed: nothing to roll back
    expect(sent[4]).toMatch(/^START TRANSACTION;\s*SAVEPOINT a0;/);
    for (const r of [...fulfilled(clean), ...fulfilled(conflicting.filter((_, i) => i !== 1))]) {
      const stream = await eventsOnly.readStream(r.streamType, r.streamId);
      expect(stream.map((e) => [e.eventId, e.position])).toEqual(
        r.events.map((e) => [e.eventId, e.position]),
      );
    }
  });

  it('sends the appends of one turn of the event loop as one group, though a slot is free', async () => {
    const twoSlots = new MySqlEventStore(knex); // the default: two transactions in flight
    await twoSlots.appendToStream(append('turn-warm-up', 0));
    groups.length = 0;
    const results = await Promise.all(
      ['turn-0', 'turn-1', 'turn-2', 'turn-3'].map((id) => twoSlots.appendToStream(append(id, 0))),
    );

    expect(groups).toEqual([4]);
    await expectDurable(results);
  });

  it('runs every append of a group again when a deadlock rolls the group back', async () => {
    const queries = await recordAppendQueries(knex);
    // The other side of the deadlock: heavier (InnoDB rolls the lighter transaction back).
    const other = await holdClaim(knex, 'deadlock', 'x');
    for (let i = 0; i < 10; i++)
      await other.run(
        `INSERT INTO claims (scope, claim_key, owner_stream_type, owner_stream_id, claimed_at)
         VALUES ${Array.from({ length: 50 }, (_, j) => `('weight', '${i}-${j}', 'room', 'holder', NOW(6))`).join(', ')}`,
      );
    const gate = await holdClaim(knex, 'gate', 'g4');
    const gated = store.appendToStream(append('gated-3', 0, { claims: claiming('gate', 'g4') }));
    await waitingConnection(knex);
    const ids = ['dl-0', 'dl-1', 'dl-2', 'dl-3'];
    const group = [
      ...ids.slice(0, 2).map((id) => store.appendToStream(append(id, 0))),
      // Takes y, then waits for x.
      store.appendToStream(
        append('dl-both', 0, {
          claims: {
            acquire: [
              { scope: 'deadlock', key: 'y' },
              { scope: 'deadlock', key: 'x' },
            ],
            release: [],
          },
        }),
      ),
      ...ids.slice(2).map((id) => store.appendToStream(append(id, 0))),
    ];
    await new Promise((r) => setImmediate(r));
    await gate.release();
    await gated;
    await waitingConnection(knex);
    await other.run(
      `INSERT INTO claims (scope, claim_key, owner_stream_type, owner_stream_id, claimed_at)
       VALUES ('deadlock', 'y', 'room', 'holder', NOW(6))`,
    );
    await other.release();

    const results = await Promise.all(group);
    expect(groups.filter((n) => n === 5)).toHaveLength(1); // then again, regrouped
    expect(groups.reduce((a, b) => a + b, 0)).toBeGreaterThan(6);
    await expectDurable(results);
    for (const id of [...ids, 'dl-both']) expect(await store.currentVersion('room', id)).toBe(2);
    // The deadlock hit the group merged (its one events INSERT).
    expect(count(queries.sent()[1]!, 'INSERT INTO events')).toBe(1);
    expect(queries.sent()[1]).not.toContain('SAVEPOINT');
  });

  it('loses nothing acknowledged and reports no success when the connection dies mid-group', async () => {
    const queries = await recordAppendQueries(knex);
    const gate = await holdClaim(knex, 'gate', 'g2');
    const first = store.appendToStream(append('before-kill', 0));
    await first;
    const wall = await holdClaim(knex, 'gate', 'g3');
    const gated = store.appendToStream(append('gated-2', 0, { claims: claiming('gate', 'g2') }));
    await waitingConnection(knex);
    const ids = Array.from({ length: 6 }, (_, i) => `doomed-${i}`);
    const group = [
      ...ids.slice(0, 3).map((id) => store.appendToStream(append(id, 0))),
      // Waits for the wall: the group is in flight, its transaction open, when it is killed.
      store.appendToStream(append('walled', 0, { claims: claiming('gate', 'g3') })),
      ...ids.slice(3).map((id) => store.appendToStream(append(id, 0))),
    ];
    await new Promise((r) => setImmediate(r));
    await gate.release();
    await expect(gated).resolves.toMatchObject({ version: 2 });
    const victim = await waitingConnection(knex);
    await wall.run(`KILL CONNECTION ${victim}`);
    const outcomes = await settle(group);
    await wall.release();

    expect(Math.max(...groups)).toBe(7);
    for (const o of outcomes) {
      // The COMMIT never ran, but the client cannot know: as for a lone append, unavailable.
      expect(o.status).toBe('rejected');
      expect((o as PromiseRejectedResult).reason).toBeInstanceOf(DependencyUnavailableError);
    }
    for (const id of [...ids, 'walled']) expect(await store.currentVersion('room', id)).toBe(0);
    await expectDurable([await first]);
    // The connection died under the group merged (its one events INSERT).
    expect(count(queries.sent()[2]!, 'INSERT INTO events')).toBe(1);
    expect(queries.sent()[2]).not.toContain('SAVEPOINT');

    // The pool gave up the dead connection: the same appends now land.
    const again = await Promise.all(ids.map((id) => store.appendToStream(append(id, 0))));
    await expectDurable(again);
  });
});
