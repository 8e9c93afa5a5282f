import type { DeadlineChanges, DeadlineSchedule } from '@cqrs/core';
import type { AnyMachineSnapshot, AnyStateMachine, AnyStateNode } from 'xstate';
import { delayNames, type AggregateState, type AnyAggregateDefinition } from './definition';

/**
 * Durable deadlines (docs/room-calendar.md "Deadlines"): a state's delayed transitions
 * (`after: { reservationHold: ... }`) become rows the append writes with the event that enters
 * the state and deletes with the event that leaves it. Pure: which deadlines a run of states
 * starts and stops, read from the statechart itself.
 */

/** A deadline a state started, before its time is fixed (the runtime adds the clock). */
export interface DeadlineStart {
  /** `<state path>/<delay>`, unique per stream, e.g. `pending/reservationHold`. */
  readonly name: string;
  /** The delay's name in the machine (or its milliseconds, for a numeric `after`). */
  readonly delay: string;
  readonly command: string;
}

export interface DeadlineDelta {
  readonly cancel: readonly string[];
  readonly start: readonly DeadlineStart[];
}

/**
 * What moving through `states` (the state before the events, then the state after each one)
 * does to the stream's deadlines: those of every state left are cancelled, those of the
 * states entered and still active at the end are started. A state left and entered again
 * restarts its deadlines (cancel + start of the same name).
 */
export function deadlineDelta(
  definition: AnyAggregateDefinition,
  states: readonly AggregateState[],
): DeadlineDelta {
  if (!hasDelays(definition.machine)) return NO_DEADLINES;
  const cancel = new Set<string>();
  const started = new Map<string, DeadlineStart>();
  for (let i = 1; i < states.length; i++) {
    const before = nodesOf(states[i - 1]!);
    const after = nodesOf(states[i]!);
    for (const node of before) {
      if (after.has(node)) continue;
      for (const d of deadlinesOf(definition, node)) {
        cancel.add(d.name);
        started.delete(d.name);
      }
    }
    for (const node of after) {
      if (before.has(node)) continue;
      for (const d of deadlinesOf(definition, node)) started.set(d.name, d);
    }
  }
  return { cancel: [...cancel], start: [...started.values()] };
}

const NO_DEADLINES: DeadlineDelta = Object.freeze({ cancel: [], start: [] });
const withDelays = new WeakMap<AnyStateMachine, boolean>();

/** Most machines have no `after` at all: their decisions need not walk the state nodes. */
function hasDelays(machine: AnyStateMachine): boolean {
  let has = withDelays.get(machine);
  if (has === undefined) {
    has = delayNames(machine).length > 0;
    withDelays.set(machine, has);
  }
  return has;
}

/** The deadlines the state's active nodes hold right now (for rebuilding the table). */
export function activeDeadlines(
  definition: AnyAggregateDefinition,
  state: AggregateState,
): readonly DeadlineStart[] {
  return [...nodesOf(state)].flatMap((node) => deadlinesOf(definition, node));
}

/**
 * The delay in milliseconds: `overrides` (configuration, e.g. RESERVATION_HOLD_MINUTES) first,
 * then the machine's `delays` implementation (a number or a function of the context).
 */
export function delayMs(
  machine: AnyStateMachine,
  delay: string,
  state: AggregateState,
  overrides: Readonly<Record<string, number>> = {},
): number {
  const configured = overrides[delay];
  if (configured !== undefined) return configured;
  if (/^\d+$/.test(delay)) return Number(delay);
  const implementation = (machine.implementations.delays as Record<string, unknown>)[delay];
  if (typeof implementation === 'number') return implementation;
  if (typeof implementation === 'function') {
    const ms = (implementation as (args: unknown) => unknown)({
      context: state.context,
      event: { type: 'xstate.init' },
    });
    if (typeof ms === 'number') return ms;
  }
  throw new Error(`Delay "${delay}" of ${state.aggregateType} has no duration`);
}

/** Turns started deadlines into rows due `delayMs` after `now`. */
export function scheduleDeadlines(
  definition: AnyAggregateDefinition,
  delta: DeadlineDelta,
  state: AggregateState,
  now: Date,
  overrides?: Readonly<Record<string, number>>,
): DeadlineChanges {
  const schedule: DeadlineSchedule[] = delta.start.map((d) => ({
    name: d.name,
    command: d.command,
    dueAt: new Date(now.getTime() + delayMs(definition.machine, d.delay, state, overrides)),
  }));
  return { cancel: delta.cancel, schedule };
}

function nodesOf(state: AggregateState): ReadonlySet<AnyStateNode> {
  return new Set((state.snapshot as AnyMachineSnapshot)._nodes as AnyStateNode[]);
}

function deadlinesOf(definition: AnyAggregateDefinition, node: AnyStateNode): DeadlineStart[] {
  return node.after.map((t) => {
    const delay = String(t.delay);
    return {
      name: `${node.path.join('.')}/${delay}`,
      delay,
      command: definition.deadlines[delay]!, // defineAggregate checked every delay has one
    };
  });
}
