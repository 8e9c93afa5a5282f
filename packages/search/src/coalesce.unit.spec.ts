import type { EventEnvelope, ReadModelProjection } from '@cqrs/core';
import { evolveBatch, planBatch, type DocumentState } from './coalesce';

/** A join like the hotel's reservations: orders show their person's name (field versions). */
interface OrderDoc {
  kind: 'order' | 'person';
  id: string;
  personId: string | null;
  personName: string | null;
  nameVersion: number;
  status: string | null;
  version: number;
}

const orders: ReadModelProjection<OrderDoc> = {
  name: 'orders',
  streamTypes: ['order', 'person'],
  targets: (e) => {
    if (e.type === 'Poison') throw new Error('cannot target a poison event');
    return e.streamType === 'order'
      ? [{ id: e.streamId }]
      : [{ id: `person:${e.streamId}` }, { field: 'personId', value: e.streamId }];
  },
  lookups: (e) => (e.type === 'OrderPlaced' ? [`person:${String(e.data.personId)}`] : []),
  evolve(doc, e, ctx) {
    if (e.type === 'Explode') throw new Error('boom');
    if (e.streamType === 'order') {
      const base = doc ?? {
        kind: 'order' as const,
        id: e.streamId,
        personId: null,
        personName: null,
        nameVersion: 0,
        status: null,
        version: 0,
      };
      if (base.version >= e.version) return undefined; // redelivered or stale
      const placed = e.type === 'OrderPlaced';
      const ref = placed ? ctx.lookup(`person:${String(e.data.personId)}`) : undefined;
      const newerName = ref && ref.nameVersion > base.nameVersion;
      return {
        ...base,
        ...(placed ? { personId: String(e.data.personId) } : {}),
        ...(newerName ? { personName: ref.personName, nameVersion: ref.nameVersion } : {}),
        status: placed ? 'placed' : 'paid',
        version: e.version,
      };
    }
    const base = doc ?? {
      kind: 'person' as const,
      id: ctx.id,
      personId: e.streamId,
      personName: null,
      nameVersion: 0,
      status: null,
      version: 0,
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
    occurredAt: '2026-12-02T10:00:00.000Z',
    data,
    metadata: {},
  }) as EventEnvelope;

/** Plans and evolves a batch over `stored` (id -> document as Elasticsearch has it). */
function coalesce(events: EventEnvelope[], stored: Record<string, OrderDoc> = {}) {
  const rejected = new Map<number, string>();
  const plan = planBatch(orders, events, rejected);
  const state = new Map<string, DocumentState>(
    Object.entries(stored).map(([id, doc], i) => [
      id,
      { doc, seqNo: i, primaryTerm: 1, dirty: false, sources: new Set<number>() },
    ]),
  );
  const changed = evolveBatch(orders, events, plan, state, rejected);
  const docs = Object.fromEntries(changed.map(([id, e]) => [id, e.doc as OrderDoc]));
  return { plan, changed, docs, rejected };
}

describe('coalescing a batch in memory', () => {
  it('writes each document once, after every event of the batch reached it', () => {
    const { changed, docs } = coalesce([
      event('order', 'o1', 1, 'OrderPlaced', { personId: 'p1' }),
      event('order', 'o1', 2, 'OrderPaid'),
      event('order', 'o2', 1, 'OrderPlaced', { personId: 'p1' }),
    ]);
    expect(changed.map(([id]) => id)).toEqual(['o1', 'o2']);
    expect(docs['o1']).toMatchObject({ status: 'paid', version: 2 });
    expect([...changed[0]![1].sources]).toEqual([0, 1]);
  });

  it('names what must be read: targets and lookups by id, joins by field', () => {
    const { plan } = coalesce([
      event('order', 'o1', 1, 'OrderPlaced', { personId: 'p1' }),
      event('person', 'p2', 2, 'PersonRenamed', { name: 'Grace' }),
    ]);
    expect([...plan.ids].sort()).toEqual(['o1', 'person:p1', 'person:p2']);
    expect([...plan.lookedUp]).toEqual(['person:p1']);
    expect(plan.matches).toEqual([{ field: 'personId', value: 'p2' }]);
  });

  it('presumes new only a document first reached by the first event of its own stream', () => {
    const { plan } = coalesce([
      event('order', 'o1', 1, 'OrderPlaced', { personId: 'p1' }),
      event('order', 'o2', 2, 'OrderPaid'),
      event('order', 'o3', 2, 'OrderPaid'),
      event('order', 'o3', 1, 'OrderPlaced', { personId: 'p1' }),
      event('person', 'p1', 1, 'PersonRenamed', { name: 'Ada' }),
    ]);
    // o2 and o3 were first reached by a later event; person:p1 is not its stream's id and is
    // looked up.
    expect([...plan.presumedNew]).toEqual(['o1']);
  });

  it('resolves a join from the batch: a placement sees the rename before it', () => {
    const { docs } = coalesce([
      event('person', 'p1', 1, 'PersonNamed', { name: 'Ada' }),
      event('order', 'o1', 1, 'OrderPlaced', { personId: 'p1' }),
    ]);
    expect(docs['o1']).toMatchObject({ personName: 'Ada', nameVersion: 1 });
  });

  it('reaches by field a document placed earlier in the same batch', () => {
    const { docs } = coalesce(
      [
        event('order', 'o2', 1, 'OrderPlaced', { personId: 'p1' }),
        event('person', 'p1', 2, 'PersonRenamed', { name: 'Ada L.' }),
      ],
      { 'person:p1': { ...person('p1', 'Ada', 1) } },
    );
    expect(docs['o2']).toMatchObject({ personName: 'Ada L.', nameVersion: 2 });
    expect(docs['person:p1']).toMatchObject({ personName: 'Ada L.', nameVersion: 2 });
  });

  it('reaches stored documents by field, and leaves untouched the ones of another value', () => {
    const { docs, changed } = coalesce([event('person', 'p1', 3, 'PersonRenamed', { name: 'X' })], {
      o1: { ...order('o1', 'p1'), personName: 'Ada', nameVersion: 1 },
      o2: { ...order('o2', 'p2') },
      'person:p1': person('p1', 'Ada', 1),
    });
    expect(Object.keys(docs).sort()).toEqual(['o1', 'person:p1']);
    expect(docs['o1']).toMatchObject({ personName: 'X', nameVersion: 3 });
    // Stored documents keep what they were read at: the write is guarded by it.
    expect(changed.find(([id]) => id === 'o1')![1]).toMatchObject({ seqNo: 0, primaryTerm: 1 });
  });

  it('changes nothing for a redelivered or older event, whatever its place in the batch', () => {
    const { changed } = coalesce(
      [
        event('order', 'o1', 2, 'OrderPaid'),
        event('order', 'o1', 1, 'OrderPlaced', { personId: 'p1' }),
        event('person', 'p1', 1, 'PersonNamed', { name: 'Old' }),
      ],
      {
        o1: { ...order('o1', 'p1'), status: 'paid', version: 2, personName: 'New', nameVersion: 2 },
        'person:p1': person('p1', 'New', 2),
      },
    );
    expect(changed).toEqual([]);
  });

  it('puts a poison event aside and evolves the others', () => {
    const { docs, rejected, plan } = coalesce([
      event('order', 'o1', 1, 'OrderPlaced', { personId: 'p1' }),
      event('order', 'o1', 2, 'Explode'),
      event('order', 'o9', 1, 'Poison'),
      event('order', 'o2', 1, 'OrderPlaced', { personId: 'p1' }),
    ]);
    expect([...rejected.keys()]).toEqual([2, 1]);
    expect(rejected.get(1)).toBe('orders: boom');
    expect(plan.ids.has('o9')).toBe(false);
    expect(Object.keys(docs)).toEqual(['o1', 'o2']);
    expect(docs['o1']).toMatchObject({ status: 'placed', version: 1 });
  });

  it('ends in the same documents whatever the order of the streams in the batch', () => {
    const placed = event('order', 'o1', 1, 'OrderPlaced', { personId: 'p1' });
    const named = event('person', 'p1', 1, 'PersonNamed', { name: 'Ada' });
    const renamed = event('person', 'p1', 2, 'PersonRenamed', { name: 'Ada L.' });
    const a = coalesce([placed, named, renamed]).docs;
    const b = coalesce([named, renamed, placed]).docs;
    expect(a['o1']?.personName).toBe('Ada L.');
    expect(b['o1']).toEqual(a['o1']);
    expect(b['person:p1']).toEqual(a['person:p1']);
  });
});

function order(id: string, personId: string): OrderDoc {
  return {
    kind: 'order',
    id,
    personId,
    personName: null,
    nameVersion: 0,
    status: 'placed',
    version: 1,
  };
}

function person(id: string, name: string, nameVersion: number): OrderDoc {
  return {
    kind: 'person',
    id: `person:${id}`,
    personId: id,
    personName: name,
    nameVersion,
    status: null,
    version: 0,
  };
}
