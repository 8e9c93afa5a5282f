import type { DocumentTarget, EventEnvelope, ReadModelProjection } from '@cqrs/core';

/**
 * The pure core of a batch: which documents a batch of events touches, and those documents
 * after every event of the batch, evolved in memory in delivery order - each document
 * changes as often as events reach it and is written once. No Elasticsearch here: the
 * engine loads what the plan names, hands the documents in, and writes the dirty ones.
 */

/** What a batch needs before it can be evolved: the documents to read and to search for. */
export interface BatchPlan {
  /** Batch positions of the events that target something, with their targets. */
  readonly events: ReadonlyArray<{
    readonly at: number;
    readonly targets: readonly DocumentTarget[];
  }>;
  /** Ids of the documents the events name (targets and lookups). */
  readonly ids: ReadonlySet<string>;
  /** The ids among them that `evolve` only reads (a join's other side). */
  readonly lookedUp: ReadonlySet<string>;
  /**
   * The ids among them first reached by the first event of their own stream (version 1, the
   * document id is the stream id) and not looked up: documents that do not exist yet, unless
   * that event was delivered again or after a later one. Worth writing with `create` unread.
   */
  readonly presumedNew: ReadonlySet<string>;
  /** The "every document whose `field` is `value`" targets, to be discovered. */
  readonly matches: ReadonlyArray<{ readonly field: string; readonly value: string }>;
}

/** One document of a batch as it evolves. */
export interface DocumentState {
  doc: object | undefined;
  /** Where Elasticsearch had it when it was read or written (absent: not stored yet). */
  seqNo?: number;
  primaryTerm?: number;
  dirty: boolean;
  /** Batch positions of the events that changed it (dead-lettered if it is refused). */
  readonly sources: Set<number>;
}

/**
 * The batch's targets. An event whose `targets` or `lookups` throws is put in `rejected`
 * (batch position -> reason) and left out; so are events already there.
 */
export function planBatch(
  projection: ReadModelProjection,
  events: readonly EventEnvelope[],
  rejected: Map<number, string>,
): BatchPlan {
  const planned: Array<{ at: number; targets: readonly DocumentTarget[] }> = [];
  const ids = new Set<string>();
  const lookedUp = new Set<string>();
  const presumedNew = new Set<string>();
  const matches: Array<{ field: string; value: string }> = [];
  events.forEach((event, at) => {
    if (rejected.has(at)) return;
    try {
      const targets = projection.targets(event);
      if (targets.length === 0) return;
      const looks = projection.lookups?.(event) ?? [];
      planned.push({ at, targets });
      for (const t of targets) {
        if (!('id' in t)) matches.push(t);
        else if (!ids.has(t.id)) {
          ids.add(t.id);
          if (event.version === 1 && t.id === event.streamId) presumedNew.add(t.id);
        }
      }
      for (const id of looks) {
        ids.add(id);
        lookedUp.add(id);
      }
    } catch (err) {
      rejected.set(at, `${projection.name}: ${(err as Error).message}`);
    }
  });
  for (const id of lookedUp) presumedNew.delete(id);
  return { events: planned, ids, lookedUp, presumedNew, matches };
}

/**
 * Applies the planned events to `state` in delivery order. `state` holds every document
 * the plan needs that exists (read, or remembered from an earlier write); an id it lacks is
 * a document that does not exist yet. Joins are resolved from `state`, so a reference the
 * batch itself changed is seen as the batch left it, and a field target finds the documents
 * as they are at that event (a reservation placed earlier in the batch is reached by a
 * rename later in it). An event whose `evolve` throws is put in `rejected`; what it changed
 * before throwing stays (the projections are pure, so it changed nothing: `evolve` returns
 * the next document or throws). Returns the documents that changed, in first-change order.
 */
export function evolveBatch(
  projection: ReadModelProjection,
  events: readonly EventEnvelope[],
  plan: BatchPlan,
  state: Map<string, DocumentState>,
  rejected: Map<number, string>,
): Array<[string, DocumentState]> {
  const entry = (id: string): DocumentState => {
    let e = state.get(id);
    if (!e) {
      e = { doc: undefined, dirty: false, sources: new Set() };
      state.set(id, e);
    }
    return e;
  };
  // "Every document whose customer.id is X", kept up to date as documents evolve: a scan of
  // the whole state per event would be quadratic in the batch size.
  const byField = new FieldIndex(plan.matches.map((m) => m.field));
  for (const [id, e] of state) byField.add(id, e.doc);
  const changed = new Map<string, DocumentState>();
  const lookup = (other: string) => state.get(other)?.doc;

  for (const { at, targets } of plan.events) {
    const event = events[at]!;
    try {
      for (const t of targets) {
        const targetIds = 'id' in t ? [t.id] : byField.ids(t.field, t.value);
        for (const id of targetIds) {
          const e = entry(id);
          const next = projection.evolve(e.doc, event, { id, lookup });
          if (next) {
            byField.replace(id, e.doc, next);
            e.doc = next;
            e.dirty = true;
            e.sources.add(at);
            changed.set(id, e);
          }
        }
      }
    } catch (err) {
      rejected.set(at, `${projection.name}: ${(err as Error).message}`);
    }
  }
  return [...changed];
}

/** Document ids by the value of each of a few fields (the fields the join matches on). */
class FieldIndex {
  private readonly fields: ReadonlyMap<string, Map<unknown, Set<string>>>;

  constructor(fields: Iterable<string>) {
    this.fields = new Map([...new Set(fields)].map((f) => [f, new Map()]));
  }

  add(id: string, doc: object | undefined): void {
    if (!doc) return;
    for (const [field, values] of this.fields) {
      for (const value of fieldValues(doc, field)) {
        let ids = values.get(value);
        if (!ids) values.set(value, (ids = new Set()));
        ids.add(id);
      }
    }
  }

  replace(id: string, before: object | undefined, after: object): void {
    if (this.fields.size === 0) return;
    if (before) {
      for (const [field, values] of this.fields) {
        for (const value of fieldValues(before, field)) values.get(value)?.delete(id);
      }
    }
    this.add(id, after);
  }

  /** A copy: evolving a document may move it between values while the caller iterates. */
  ids(field: string, value: unknown): string[] {
    return [...(this.fields.get(field)?.get(value) ?? [])];
  }
}

/** Dotted paths split once: the join's fields are few, and read for every document. */
const paths = new Map<string, readonly string[]>();

/** The value at a dotted path of a document, e.g. `customer.id`. */
export function fieldValue(doc: object, field: string): unknown {
  let path = paths.get(field);
  if (!path) paths.set(field, (path = field.split('.')));
  let v: unknown = doc;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/**
 * The values a `{ field, value }` target matches, as a `term` query does: each element of a
 * keyword array, or the one value (none when absent).
 */
export function fieldValues(doc: object, field: string): readonly unknown[] {
  const v = fieldValue(doc, field);
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}
