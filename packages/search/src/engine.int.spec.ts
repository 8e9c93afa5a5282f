import type { EventEnvelope, ReadModelProjection } from '@cqrs/core';
import { createTestIndexPrefix, type TestIndexPrefix } from '@cqrs/testing';
import pino from 'pino';
import { ProjectionEngine, type ProjectionTarget } from './engine';

/** A join like the hotel's reservations: orders show their person's name. */
interface OrderDoc {
  kind: 'order' | 'person';
  id: string;
  personId: string | null;
  personName: string | null;
  nameVersion: number;
}

const ordersProjection: ReadModelProjection<OrderDoc> = {
  name: 'orders',
  streamTypes: ['order', 'person'],
  targets: (e) =>
    e.streamType === 'order'
      ? [{ id: e.streamId }]
      : [{ id: `person:${e.streamId}` }, { field: 'personId', value: e.streamId }],
  lookups: (e) => (e.type === 'OrderPlaced' ? [`person:${String(e.data.personId)}`] : []),
  evolve(doc, e, ctx) {
    if (e.streamType === 'order') {
      const ref = ctx.lookup(`person:${String(e.data.personId)}`);
      // Placed again (write-then-verify): only a newer name of the person changes it.
      if (doc) {
        if (!ref || ref.nameVersion <= doc.nameVersion) return undefined;
        return { ...doc, personName: ref.personName, nameVersion: ref.nameVersion };
      }
      return {
        kind: 'order',
        id: e.streamId,
        personId: String(e.data.personId),
        personName: ref?.personName ?? null,
        nameVersion: ref?.nameVersion ?? 0,
      };
    }
    const base = doc ?? {
      kind: 'person',
      id: ctx.id,
      personId: e.streamId,
      personName: null,
      nameVersion: 0,
    };
    if (base.nameVersion >= e.version) return undefined;
    return { ...base, personName: String(e.data.name), nameVersion: e.version };
  },
};

let position = 0;
const event = (streamType: string, streamId: string, version: number, type: string, data = {}) =>
  ({
    eventId: `e${++position}`,
    streamType,
    streamId,
    version,
    position: String(position),
    type,
    schemaVersion: 1,
    occurredAt: new Date().toISOString(),
    data,
    metadata: {},
  }) as EventEnvelope;

describe('ProjectionEngine (Elasticsearch)', () => {
  let es: TestIndexPrefix;
  const log = pino({ level: 'silent' });

  beforeAll(async () => {
    es = await createTestIndexPrefix('engine');
  });
  afterAll(() => es?.drop());

  /** An index that never refreshes by itself: only the engine's refreshes make documents searchable. */
  async function target(name: string, soleWriter = true): Promise<ProjectionTarget> {
    const index = `${es.prefix}-${name}`;
    await es.client.indices.create({
      index,
      settings: { number_of_shards: 1, number_of_replicas: 0, refresh_interval: '-1' },
      mappings: {
        dynamic: 'strict',
        properties: {
          kind: { type: 'keyword' },
          id: { type: 'keyword' },
          personId: { type: 'keyword' },
          personName: { type: 'keyword' },
          nameVersion: { type: 'long' },
        },
      },
    });
    return {
      index,
      model: { projection: ordersProjection, mappings: {} },
      ...(soleWriter ? { trustOwnWrites: true } : {}),
    };
  }
  const doc = async (t: ProjectionTarget, id: string) =>
    (await es.client.get<OrderDoc>({ index: t.index, id }))._source;
  const searchable = async (t: ProjectionTarget, personName: string) =>
    (await es.client.search({ index: t.index, query: { term: { personName } } })).hits.hits.length;

  it('finds documents of earlier, unrefreshed batches for the join', async () => {
    const engine = new ProjectionEngine({ client: es.client, logger: log });
    const t = await target('unrefreshed');
    await engine.project(
      [
        event('person', 'p1', 1, 'PersonNamed', { name: 'Ada' }),
        event('order', 'o1', 1, 'OrderPlaced', { personId: 'p1' }),
      ],
      [t],
    );
    await engine.project([event('order', 'o2', 1, 'OrderPlaced', { personId: 'p1' })], [t]);
    // Nothing is searchable yet; the rename must still reach both orders.
    await engine.project([event('person', 'p1', 2, 'PersonNamed', { name: 'Ada L.' })], [t]);
    expect(await doc(t, 'o1')).toMatchObject({ personName: 'Ada L.', nameVersion: 2 });
    expect(await doc(t, 'o2')).toMatchObject({ personName: 'Ada L.', nameVersion: 2 });

    await engine.refresh([t.index]);
    expect(await searchable(t, 'Ada L.')).toBe(3);
    // After the refresh the search finds them: a later rename still reaches both.
    await engine.project([event('person', 'p1', 3, 'PersonNamed', { name: 'Ada King' })], [t]);
    expect(await doc(t, 'o2')).toMatchObject({ personName: 'Ada King' });
    await engine.project([], [t], true);
  });

  it('refreshes by itself when it remembers too many unrefreshed documents', async () => {
    const engine = new ProjectionEngine({ client: es.client, logger: log, maxUnrefreshed: 2 });
    const t = await target('bounded');
    await engine.project(
      [
        event('person', 'p2', 1, 'PersonNamed', { name: 'Grace' }),
        event('order', 'o3', 1, 'OrderPlaced', { personId: 'p2' }),
        event('order', 'o4', 1, 'OrderPlaced', { personId: 'p2' }),
      ],
      [t],
    );
    expect(await searchable(t, 'Grace')).toBe(0);
    await engine.project([event('person', 'p2', 2, 'PersonNamed', { name: 'Grace H.' })], [t]);
    expect(await doc(t, 'o3')).toMatchObject({ personName: 'Grace H.' });
    expect(await doc(t, 'o4')).toMatchObject({ personName: 'Grace H.' });
    // The first batch's three documents were refreshed before the second batch (a search
    // sees them), the rename not yet.
    expect(await searchable(t, 'Grace')).toBe(3);
    await engine.project([event('order', 'o5', 1, 'OrderPlaced', { personId: 'p2' })], [t], true);
    expect(await searchable(t, 'Grace H.')).toBe(4);
  });

  it('a batch that read while the one before it was written sees what that one wrote', async () => {
    const t = await target('pipeline', false);
    // The placement's write waits until the rename's batch has searched for the orders.
    let searched!: () => void;
    const renameSearched = new Promise<void>((resolve) => (searched = resolve));
    const gated = new Proxy(es.client, {
      get(target, key, receiver) {
        const value: unknown = Reflect.get(target, key, receiver);
        if ((key !== 'bulk' && key !== 'search') || typeof value !== 'function') return value;
        const call = (...args: unknown[]) =>
          (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (key === 'search') return (...args: unknown[]) => call(...args).finally(searched);
        return async (...args: unknown[]) => {
          await renameSearched;
          return call(...args);
        };
      },
    });
    const engine = new ProjectionEngine({ client: gated, logger: log });
    const placed = engine.project(
      [event('order', 'o9', 1, 'OrderPlaced', { personId: 'p5' })],
      [t],
    );
    // The next batch of a pipeline: it reads now and writes once the placement is written.
    const renamed = engine.project(
      [event('person', 'p5', 1, 'PersonNamed', { name: 'Barbara' })],
      [t],
      false,
      placed.then(() => true),
    );
    await Promise.all([placed, renamed]);
    expect(await doc(t, 'o9')).toMatchObject({ personName: 'Barbara', nameVersion: 1 });
  });

  it('writes the first event of a stream unread, and reads when its document exists after all', async () => {
    const t = await target('presumed', false);
    const engine = new ProjectionEngine({ client: es.client, logger: log });
    await engine.project(
      [
        event('person', 'p6', 1, 'PersonNamed', { name: 'Grace' }),
        event('order', 'o10', 1, 'OrderPlaced', { personId: 'p6' }),
      ],
      [t],
    );
    await engine.project([event('person', 'p6', 2, 'PersonNamed', { name: 'Grace H.' })], [t]);
    // Delivered again: presumed new, created unread - the create conflicts, the next attempt
    // reads the order and changes nothing.
    const before = await es.client.get({ index: t.index, id: 'o10' });
    const again = new ProjectionEngine({ client: es.client, logger: log });
    await again.project([event('order', 'o10', 1, 'OrderPlaced', { personId: 'p6' })], [t]);
    const after = await es.client.get<OrderDoc>({ index: t.index, id: 'o10' });
    expect(after._source).toMatchObject({ personName: 'Grace H.', nameVersion: 2 });
    expect(after._seq_no).toBe(before._seq_no); // not overwritten
  });

  describe('two engines (two query-service instances) on one shared index', () => {
    it('a rename finds a placement the other instance wrote unrefreshed (refresh after its write)', async () => {
      const t = await target('shared-rename', false);
      const a = new ProjectionEngine({ client: es.client, logger: log });
      const b = new ProjectionEngine({ client: es.client, logger: log });
      await a.project([event('person', 'p3', 1, 'PersonNamed', { name: 'Alan' })], [t]);
      await a.project([event('order', 'o6', 1, 'OrderPlaced', { personId: 'p3' })], [t]);
      await es.client.indices.refresh({ index: t.index });
      await a.project([event('order', 'o7', 1, 'OrderPlaced', { personId: 'p3' })], [t]);
      // o7 is written but not searchable, and b never saw it: b's search before its write
      // misses it, the search after its write (behind a refresh) finds it.
      await b.project([event('person', 'p3', 2, 'PersonNamed', { name: 'Alan T.' })], [t]);
      expect(await doc(t, 'o6')).toMatchObject({ personName: 'Alan T.', nameVersion: 2 });
      expect(await doc(t, 'o7')).toMatchObject({ personName: 'Alan T.', nameVersion: 2 });
    });

    it('a placement sees a rename that completed while it was written (real-time get after its write)', async () => {
      const t = await target('shared-place', false);
      const b = new ProjectionEngine({ client: es.client, logger: log });
      await b.project([event('person', 'p4', 1, 'PersonNamed', { name: 'Edsger' })], [t]);
      // a reads the person (v1), then - before its write - b renames the person and finds
      // no order yet: the interleaving that left a stale name before write-then-verify.
      let raced = false;
      const racing = new Proxy(es.client, {
        get(target, key, receiver) {
          const value: unknown = Reflect.get(target, key, receiver);
          if (key !== 'bulk' || typeof value !== 'function') return value;
          return async (...args: unknown[]) => {
            if (!raced) {
              raced = true;
              await b.project(
                [event('person', 'p4', 2, 'PersonNamed', { name: 'Edsger D.' })],
                [t],
              );
            }
            return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          };
        },
      });
      const a = new ProjectionEngine({ client: racing, logger: log });
      await a.project([event('order', 'o8', 1, 'OrderPlaced', { personId: 'p4' })], [t]);
      expect(raced).toBe(true);
      expect(await doc(t, 'o8')).toMatchObject({ personName: 'Edsger D.', nameVersion: 2 });
    });
  });
});
