import type { EventEnvelope } from '@cqrs/core';
import type { AnyMachineSnapshot } from 'xstate';
import type { AggregateState, AnyAggregateDefinition, MachineEvent } from './definition';
import { pureTransitions } from './pure-transition';
import { upcast } from './upcasting';

/**
 * Evolve: the state is rebuilt by replaying the stream through the machine's pure
 * transition function. XState 5 applies `assign` inside a transition (the context is part
 * of the returned snapshot) and leaves every other action unexecuted, so replay has no
 * side effects. pure-transition.ts explains how the transition is called.
 */

/** The state of an aggregate whose stream has no events. */
export function initialState(
  definition: AnyAggregateDefinition,
  aggregateId: string,
): AggregateState {
  return stateAt(definition, aggregateId, pureTransitions(definition.machine).initial, 0);
}

export function stateAt(
  definition: AnyAggregateDefinition,
  aggregateId: string,
  snapshot: AnyMachineSnapshot,
  version: number,
): AggregateState {
  return {
    aggregateType: definition.type,
    aggregateId,
    version,
    value: snapshot.value,
    context: snapshot.context,
    snapshot,
  };
}

/**
 * Applies one event to a state. Used for both stored events (replay) and newly decided
 * ones, after the decision checked `can`. Throws when the machine refuses the event: a
 * stored stream the machine cannot follow means the code changed incompatibly, and
 * carrying on would silently diverge from the truth.
 */
export function applyEvent(
  definition: AnyAggregateDefinition,
  state: AggregateState,
  event: MachineEvent,
  version: number,
): AggregateState {
  const next = tryEvent(definition, state, event, version);
  if (!next) {
    throw new Error(
      `${definition.type} ${state.aggregateId}: event ${event.type} (version ${version}) ` +
        `is not accepted in state ${JSON.stringify(state.value)}`,
    );
  }
  return next;
}

/** The state after `event`, or undefined when the machine has no transition for it now. */
export function tryEvent(
  definition: AnyAggregateDefinition,
  state: AggregateState,
  event: MachineEvent,
  version: number,
): AggregateState | undefined {
  const previous = state.snapshot as AnyMachineSnapshot;
  const next = pureTransitions(definition.machine).next(previous, event);
  // XState returns the very same snapshot when no transition is enabled (and for a
  // targetless transition without actions); only then is the costlier `can` needed.
  if (next === previous && !previous.can(event)) return undefined;
  return stateAt(definition, state.aggregateId, next, version);
}

/** Replays stored events (upcasting them) onto a state; versions must follow on. */
export function replay(
  definition: AnyAggregateDefinition,
  state: AggregateState,
  events: readonly EventEnvelope[],
): AggregateState {
  let current = state;
  for (const e of events) {
    if (e.version !== current.version + 1) {
      throw new Error(
        `${definition.type} ${state.aggregateId}: expected version ${current.version + 1}, ` +
          `read ${e.version}`,
      );
    }
    const data = upcast(definition, e.type, e.schemaVersion, e.data);
    current = applyEvent(definition, current, { type: e.type, data }, e.version);
  }
  return current;
}
