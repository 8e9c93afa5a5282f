import type { AnyStateNode } from 'xstate';
import type { AnyAggregateDefinition } from './definition';

/**
 * Renders an aggregate's statechart as a Mermaid `stateDiagram-v2`, straight from the
 * machine definition, so the diagram cannot drift from the rules it pictures.
 */
export function toMermaid(definition: AnyAggregateDefinition): string {
  const root = definition.machine.root as AnyStateNode;
  const lines = ['stateDiagram-v2'];
  renderNode(definition, root, lines, '  ');
  return lines.join('\n') + '\n';
}

function renderNode(
  definition: AnyAggregateDefinition,
  node: AnyStateNode,
  lines: string[],
  indent: string,
): void {
  const children = Object.values(node.states) as AnyStateNode[];
  if (node.initial && children.length > 0) {
    const initial = node.initial.target[0];
    if (initial) lines.push(`${indent}[*] --> ${id(initial)}`);
  }
  for (const child of children) {
    if (Object.keys(child.states).length > 0) {
      lines.push(`${indent}state ${id(child)} {`);
      renderNode(definition, child, lines, `${indent}  `);
      lines.push(`${indent}}`);
    }
    for (const [eventType, transitions] of child.transitions) {
      for (const t of transitions) {
        const guard = guardLabel(t.guard);
        const name = eventLabel(definition, child, eventType);
        const label = guard ? `${name} [${guard}]` : name;
        const targets = t.target && t.target.length > 0 ? t.target : [child];
        for (const target of targets)
          lines.push(`${indent}${id(child)} --> ${id(target)} : ${label}`);
      }
    }
    if (child.type === 'final') lines.push(`${indent}${id(child)} --> [*]`);
  }
}

/** A delayed transition reads `after <delay> / <command>`: the deadline and what it sends. */
function eventLabel(
  definition: AnyAggregateDefinition,
  node: AnyStateNode,
  eventType: string,
): string {
  const delayed = node.after.find((t) => t.eventType === eventType);
  if (!delayed) return eventType;
  const delay = String(delayed.delay);
  const command = definition.deadlines[delay];
  return command ? `after ${delay} / ${command}` : `after ${delay}`;
}

function id(node: AnyStateNode): string {
  return node.path.join('_');
}

function guardLabel(guard: unknown): string | undefined {
  if (guard === undefined) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && guard !== null && 'type' in guard) {
    return String((guard as { type: unknown }).type);
  }
  return 'guard';
}
