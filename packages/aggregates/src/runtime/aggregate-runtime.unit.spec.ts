import {
  ConcurrencyConflictError,
  NotFoundError,
  type AppendRequest,
  type Clock,
  type EventStorePort,
} from '@cqrs/core';
import { ticket } from '../__fixtures__/ticket';
import { aggregateRegistry } from '../definition';
import { initialState, replay } from '../replay';
import { InMemoryEventStore } from '../testing/in-memory-event-store';
import {
  AggregateRuntime,
  type AggregateRuntimeOptions,
  type CommandObservation,
} from './aggregate-runtime';

const aggregates = aggregateRegistry(ticket);
const metadata = { correlationId: 'c-1' };
const open = (title = 'Leak') => ({ type: 'OpenTicket', data: { title, priority: 2 } });
const retitle = (title: string) => ({ type: 'RetitleTicket', data: { title } });

class ManualClock implements Clock {
  constructor(private ms = Date.parse('2030-01-01T00:00:00Z')) {}
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

const runtimes: AggregateRuntime[] = [];
function runtime(store: EventStorePort, options: Partial<AggregateRuntimeOptions> = {}) {
  const r = new AggregateRuntime({
    store,
    aggregates,
    idlePassivationMs: 0,
    random: () => 0,
    ...options,
  });
  runtimes.push(r);
  return r;
}
const exec = (
  r: AggregateRuntime,
  id: string,
  command: { type: string; data: object },
  expectedVersion?: number,
) =>
  r.execute({
    aggregateType: 'ticket',
    aggregateId: id,
    command: command as { type: string; data: Record<string, unknown> },
    metadata,
    ...(expectedVersion !== undefined ? { expectedVersion } : {}),
  });

afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((r) => r.close()));
});

describe('AggregateRuntime', () => {
  it('says whether a command created the stream', async () => {
    const r = runtime(new InMemoryEventStore());
    const first = await exec(r, 't-1', open());
    const second = await exec(r, 't-1', retitle('Drip'));
    expect(first).toMatchObject({ created: true, result: { version: 1, streamId: 't-1' } });
    expect(second).toMatchObject({ created: false, result: { version: 2 } });
    expect(second.result.events).toEqual([
      expect.objectContaining({ type: 'TicketRetitled', version: 2 }),
    ]);
  });

  it('serialises commands on one aggregate: concurrent commands never conflict in one process', async () => {
    // Each append yields to the event loop, so without a mailbox decisions would interleave.
    const store = new InMemoryEventStore({
      beforeAppend: () => new Promise((r) => setImmediate(r)),
    });
    const r = runtime(store);
    await exec(r, 't-1', open());
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => exec(r, 't-1', retitle(`title ${i}`))),
    );
    expect(results.map((x) => x.result.version).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 2),
    );
    expect(store.conflicts).toBe(0);
  });

  it('does not read the store before an append when the actor is warm', async () => {
    const store = new InMemoryEventStore();
    const r = runtime(store);
    await exec(r, 't-1', open());
    const reads = store.calls.readStream;
    await exec(r, 't-1', retitle('Drip'));
    expect(store.calls.readStream).toBe(reads);
  });

  describe('a stream it has not read', () => {
    it('appends a creating command at version 0 without reading first', async () => {
      const store = new InMemoryEventStore();
      const { created, result } = await exec(runtime(store), 't-1', open());
      expect({ created, version: result.version }).toEqual({ created: true, version: 1 });
      expect(store.calls).toMatchObject({ loadSnapshot: 0, readStream: 0, appendToStream: 1 });
    });

    it('decides a creating command again on what the store holds when the stream exists', async () => {
      const store = new InMemoryEventStore();
      const observed: CommandObservation[] = [];
      await exec(runtime(store), 't-1', open());
      const other = runtime(store, { hooks: { onCommand: (o) => observed.push(o) } });
      await expect(exec(other, 't-1', open('Again'))).rejects.toMatchObject({
        code: 'rejected',
      });
      expect(store.events('ticket', 't-1')).toHaveLength(1);
      expect(observed).toMatchObject([{ outcome: 'rejected', retries: 0 }]);
    });

    it('reads first when its initial state refuses the command: no failed append', async () => {
      const store = new InMemoryEventStore();
      await exec(runtime(store), 't-1', open());
      const appends = store.calls.appendToStream;
      const { created, result } = await exec(runtime(store), 't-1', retitle('Drip'));
      expect({ created, version: result.version }).toEqual({ created: false, version: 2 });
      expect(store.calls.appendToStream).toBe(appends + 1);
      expect(store.conflicts).toBe(0);
    });
  });

  it('reloads and retries when another process appended first', async () => {
    const store = new InMemoryEventStore();
    const observed: CommandObservation[] = [];
    const a = runtime(store, { hooks: { onCommand: (o) => observed.push(o) } });
    const b = runtime(store);
    await exec(a, 't-1', open());
    await exec(b, 't-1', retitle('From B'));
    const { result } = await exec(a, 't-1', retitle('From A'));
    expect(result.version).toBe(3);
    expect(store.conflicts).toBe(1);
    expect(observed.at(-1)).toMatchObject({ outcome: 'accepted', retries: 1 });
  });

  it('re-decides on the fresh state after a conflict (a rule can now refuse)', async () => {
    const store = new InMemoryEventStore();
    const a = runtime(store);
    const b = runtime(store);
    await exec(a, 't-1', open());
    await exec(b, 't-1', { type: 'CloseTicket', data: {} });
    await expect(exec(a, 't-1', retitle('Late'))).rejects.toMatchObject({
      state: 'closed',
      rule: 'lifecycle',
    });
  });

  it('gives up after maxRetries conflicts', async () => {
    const store = new InMemoryEventStore();
    const b = runtime(store);
    let appends = 0;
    // Another writer always gets in first.
    const contended: EventStorePort = Object.assign(Object.create(store) as EventStorePort, {
      appendToStream: async (request: AppendRequest) => {
        appends++;
        await exec(b, request.streamId, retitle(`b${appends}`));
        return store.appendToStream(request);
      },
    });
    await exec(b, 't-1', open());
    const a = runtime(contended, { maxRetries: 2 });
    await expect(exec(a, 't-1', retitle('never'))).rejects.toBeInstanceOf(ConcurrencyConflictError);
    expect(appends).toBe(3);
    expect(a.stats().commands.conflict).toBe(1);
  });

  describe('with a pinned expected version (If-Match)', () => {
    it('answers a stale pin with a conflict naming the current version, without retrying', async () => {
      const store = new InMemoryEventStore();
      const a = runtime(store);
      const b = runtime(store);
      await exec(a, 't-1', open());
      await exec(b, 't-1', retitle('From B'));
      await expect(exec(a, 't-1', retitle('From A'), 1)).rejects.toMatchObject({
        currentVersion: 2,
        expectedVersion: 1,
      });
      expect(store.events('ticket', 't-1')).toHaveLength(2);
    });

    it('catches up before deciding when the pin is ahead of the cache', async () => {
      const store = new InMemoryEventStore();
      const a = runtime(store);
      const b = runtime(store);
      await exec(a, 't-1', open());
      await exec(b, 't-1', retitle('From B'));
      const { result } = await exec(a, 't-1', retitle('From A'), 2);
      expect(result.version).toBe(3);
      expect(store.conflicts).toBe(0);
    });

    it('refuses a pin below the cached version without touching the store', async () => {
      const store = new InMemoryEventStore();
      const r = runtime(store);
      await exec(r, 't-1', open());
      await exec(r, 't-1', retitle('Drip'));
      const appends = store.calls.appendToStream;
      await expect(exec(r, 't-1', retitle('Again'), 1)).rejects.toBeInstanceOf(
        ConcurrencyConflictError,
      );
      expect(store.calls.appendToStream).toBe(appends);
    });

    it('"0" means the stream must not exist yet', async () => {
      const r = runtime(new InMemoryEventStore());
      expect((await exec(r, 't-1', open(), 0)).created).toBe(true);
      await expect(exec(r, 't-1', open(), 0)).rejects.toMatchObject({ currentVersion: 1 });
    });
  });

  it('passivates idle actors and reloads them on next use', async () => {
    const clock = new ManualClock();
    const store = new InMemoryEventStore();
    const live: number[] = [];
    const r = runtime(store, {
      clock,
      idlePassivationMs: 60_000,
      hooks: { onLiveActorsChanged: (n) => live.push(n) },
    });
    await exec(r, 't-1', open());
    await exec(r, 't-2', open());
    clock.advance(30_000);
    await exec(r, 't-2', retitle('Busy'));
    clock.advance(40_000);
    expect(r.passivateIdle()).toBe(1); // t-1 idle for 70 s, t-2 for 40 s
    expect(r.stats().liveActors).toBe(1);
    expect(live.at(-1)).toBe(1);
    const reads = store.calls.readStream;
    await exec(r, 't-1', retitle('Back'));
    expect(store.calls.readStream).toBe(reads + 1);
  });

  it('keeps the cache within its bound, evicting the least recently used', async () => {
    const store = new InMemoryEventStore();
    const r = runtime(store, { cacheMaxSize: 2 });
    await exec(r, 't-1', open());
    await exec(r, 't-2', open());
    await exec(r, 't-1', retitle('Used'));
    await exec(r, 't-3', open());
    expect(r.stats().liveActors).toBe(2);
    const reads = store.calls.readStream;
    await exec(r, 't-1', retitle('Still warm'));
    expect(store.calls.readStream).toBe(reads);
    await exec(r, 't-2', retitle('Evicted'));
    expect(store.calls.readStream).toBe(reads + 1);
  });

  it('snapshots every N events; snapshot + tail equals a full replay', async () => {
    const store = new InMemoryEventStore();
    const writer = runtime(store, { snapshotEvery: 3 });
    await exec(writer, 't-1', open());
    for (let i = 0; i < 6; i++) await exec(writer, 't-1', retitle(`title ${i}`));
    await writer.flush();
    expect(store.calls.saveSnapshot).toBe(2); // at versions 3 and 6
    expect((await store.loadSnapshot('ticket', 't-1'))?.version).toBe(6);

    const reader = runtime(store, { snapshotEvery: 3 });
    const reads: number[] = [];
    const original = store.readStream.bind(store);
    store.readStream = (type, id, after) => {
      reads.push(after ?? 0);
      return original(type, id, after);
    };
    const fromSnapshot = await reader.load('ticket', 't-1');
    expect(reads).toEqual([6]);
    const full = replay(ticket, initialState(ticket, 't-1'), store.events('ticket', 't-1'));
    expect(fromSnapshot).toEqual({
      aggregateType: 'ticket',
      aggregateId: 't-1',
      version: 7,
      state: full.value,
      context: full.context,
    });
  });

  it('upcasts stored events of an old schema version and writes the current one', async () => {
    const store = new InMemoryEventStore();
    await store.appendToStream({
      streamType: 'ticket',
      streamId: 't-1',
      expectedVersion: 0,
      events: [{ type: 'TicketOpened', data: { title: 'Old' }, schemaVersion: 1 }],
      metadata: {},
    });
    const r = runtime(store);
    expect((await r.load('ticket', 't-1')).context).toMatchObject({ title: 'Old', priority: 3 });
    await exec(r, 't-2', open());
    expect(store.events('ticket', 't-2')[0]?.schemaVersion).toBe(2);
  });

  it('lets decide read another aggregate strongly, past a stale cache', async () => {
    const store = new InMemoryEventStore();
    const a = runtime(store);
    const b = runtime(store);
    await exec(a, 't-1', open());
    await expect(a.load('ticket', 't-2')).rejects.toBeInstanceOf(NotFoundError); // cached as absent
    await exec(b, 't-2', open());
    const { result } = await exec(a, 't-1', { type: 'LinkTicket', data: { otherId: 't-2' } });
    expect(result.version).toBe(2);
  });

  it('caches what decisions read, so the next read of it is one read of the tail', async () => {
    const store = new InMemoryEventStore();
    const r = runtime(store, { snapshotEvery: 10 });
    const other = runtime(store);
    await exec(other, 't-2', open());
    await exec(r, 't-1', open());
    await exec(r, 't-1', { type: 'LinkTicket', data: { otherId: 't-2' } });
    const before = { ...store.calls };
    await exec(r, 't-1', { type: 'LinkTicket', data: { otherId: 't-2' } });
    expect(store.calls.loadSnapshot).toBe(before.loadSnapshot);
    expect(store.calls.readStream).toBe(before.readStream + 1);
  });

  it('forgets the state after an append whose outcome is unknown', async () => {
    const store = new InMemoryEventStore();
    let fail = false;
    const flaky: EventStorePort = Object.assign(Object.create(store) as EventStorePort, {
      appendToStream: async (request: AppendRequest) => {
        if (fail) throw new Error('connection lost');
        return store.appendToStream(request);
      },
    });
    const r = runtime(flaky);
    await exec(r, 't-1', open());
    fail = true;
    await expect(exec(r, 't-1', retitle('Lost?'))).rejects.toThrow('connection lost');
    fail = false;
    const reads = store.calls.readStream;
    await exec(r, 't-1', retitle('Again'));
    expect(store.calls.readStream).toBeGreaterThan(reads);
    expect(r.stats().commands).toMatchObject({ accepted: 2, failed: 1 });
  });

  it('answers unknown types, unknown commands and bad payloads before loading anything', async () => {
    const store = new InMemoryEventStore();
    const r = runtime(store);
    await expect(
      r.execute({ aggregateType: 'nope', aggregateId: 'x', command: open(), metadata }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(exec(r, 't-1', { type: 'Explode', data: {} })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(exec(r, 't-1', { type: 'OpenTicket', data: {} })).rejects.toMatchObject({
      code: 'validation',
    });
    expect(store.calls.readStream + store.calls.loadSnapshot).toBe(0);
    expect(r.stats().commands).toMatchObject({ 'not-found': 2, invalid: 1 });
  });

  it('load() returns the write-side view and 404s an empty stream', async () => {
    const r = runtime(new InMemoryEventStore());
    await expect(r.load('ticket', 't-1')).rejects.toBeInstanceOf(NotFoundError);
    await exec(r, 't-1', open());
    expect(await r.load('ticket', 't-1')).toEqual({
      aggregateType: 'ticket',
      aggregateId: 't-1',
      version: 1,
      state: 'open',
      context: { title: 'Leak', priority: 2, links: [] },
    });
  });
});
