import type { AnyStateNode } from 'xstate';
import type { AnyAggregateDefinition } from './definition';

/**
 * Renders an aggregate's statechart as a Mermaid `stateDiagram-v2`, straight from the
 * machine definition, so the diagram cannot drift from the rules it pictures.
 */
export function toMermaid(definition: AnyAggregateDefinition): string {
  const root = definition.machine.root as AnyStateNode;
  const lines = ['stateDiagram-v2'];
  renderNode(root, lines, '  ');
  return lines.join('\n') + '\n';
}

function renderNode(node: AnyStateNode, lines: string[], indent: string): void {
  const children = Object.values(node.states) as AnyStateNode[];
  if (node.initial && children.length > 0) {
    const initial = node.initial.target[0];
    if (initial) lines.push(`${indent}[*] --> ${id(initial)}`);
  }
  for (const child of children) {
    if (Object.keys(child.states).length > 0) {
      lines.push(`${indent}state ${id(child)} {`);
      renderNode(child, lines, `${indent}  `);
      lines.push(`${indent}}`);
    }
    for (const [eventType, transitions] of child.transitions) {
      for (const t of transitions) {
        const guard = guardLabel(t.guard);
        const label = guard ? `${eventType} [${guard}]` : eventType;
        const targets = t.target && t.target.length > 0 ? t.target : [child];
        for (const target of targets)
          lines.push(`${indent}${id(child)} --> ${id(target)} : ${label}`);
      }
    }
    if (child.type === 'final') lines.push(`${indent}${id(child)} --> [*]`);
  }
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
