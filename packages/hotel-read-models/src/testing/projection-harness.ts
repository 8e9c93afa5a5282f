import type { EventEnvelope, ReadModelProjection } from '@cqrs/core';

/** Test helpers for projections: no Elasticsearch, milliseconds. */

/** A minimal in-memory engine: what packages/search does against Elasticsearch. */
export function run<T extends object>(
  projection: ReadModelProjection<T>,
  events: readonly EventEnvelope[],
): Map<string, T> {
  const docs = new Map<string, T>();
  const ctx = (id: string) => ({ id, lookup: (other: string) => docs.get(other) });
  for (const event of events) {
    for (const target of projection.targets(event)) {
      const ids =
        'id' in target
          ? [target.id]
          : [...docs.entries()]
              .filter(([, d]) => matches(path(d, target.field), target.value))
              .map(([id]) => id);
      for (const id of ids) {
        const next = projection.evolve(docs.get(id), event, ctx(id));
        if (next) docs.set(id, next);
      }
    }
  }
  return docs;
}

/** A keyword field matches a value as Elasticsearch's `term` does: equal, or an element of it. */
function matches(field: unknown, value: string): boolean {
  return Array.isArray(field) ? field.includes(value) : field === value;
}

function path(doc: object, field: string): unknown {
  return field
    .split('.')
    .reduce<unknown>(
      (o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
      doc,
    );
}

let seq = 0;
export function ev(
  streamType: string,
  streamId: string,
  version: number,
  type: string,
  data: Record<string, unknown> = {},
): EventEnvelope {
  seq += 1;
  return {
    eventId: `e-${streamType}-${streamId}-${version}`,
    streamType,
    streamId,
    version,
    position: String(seq),
    type,
    schemaVersion: 1,
    occurredAt: `2026-01-01T00:00:${String(version).padStart(2, '0')}.000000Z`,
    data,
    metadata: {},
  };
}

/** Every permutation of a small list. */
export function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) =>
    permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]),
  );
}
