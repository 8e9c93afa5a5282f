import { toMermaid, type AnyAggregateDefinition } from '@cqrs/aggregates';

/** The class the console's stylesheet and tests look for on the current state's node. */
export const CURRENT_STATE_CLASS = 'current';

/**
 * The aggregate's statechart as Mermaid source (the same generator as `docs/machines`), with
 * the states of `value` (an XState state value: `'confirmed'`, or `{ a: 'b' }` when nested)
 * marked by a class, so the diagram shows where this aggregate is. `undefined`: a stream
 * with no events, in the generated `nonexistent` state when the machine has one.
 */
export function highlightedStatechart(definition: AnyAggregateDefinition, value: unknown): string {
  const ids = stateIds(value);
  const lines = [toMermaid(definition).trimEnd()];
  lines.push(
    `  classDef ${CURRENT_STATE_CLASS} fill:#f59e0b,stroke:#92400e,stroke-width:3px,color:#000`,
  );
  if (ids.length > 0) lines.push(`  class ${ids.join(',')} ${CURRENT_STATE_CLASS}`);
  return lines.join('\n') + '\n';
}

/** Mermaid node ids (state paths joined by `_`, as toMermaid names them) of a state value. */
export function stateIds(value: unknown, prefix: readonly string[] = []): string[] {
  if (typeof value === 'string') return [[...prefix, value].join('_')];
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, child]) => [
    [...prefix, key].join('_'),
    ...stateIds(child, [...prefix, key]),
  ]);
}
