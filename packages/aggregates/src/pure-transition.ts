import {
  createActor,
  initialTransition,
  type AnyActorScope,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type EventObject,
} from 'xstate';

/**
 * XState's pure `transition(machine, snapshot, event)` builds a throwaway actor (and runs
 * its initial transition) on every call to get an inert scope: ~60-130 us per event,
 * twenty times the transition itself. Replay applies every event of a stream, so we keep
 * one inert scope per machine and call `machine.transition` with it - exactly what
 * `transition()` does, minus the rebuild. Safe because aggregate machines never spawn or
 * invoke actors (the only thing a scope accumulates) and actions other than `assign` are
 * never executed here (the executor drops them, as `transition()` merely returns them).
 */
interface PureTransitions {
  readonly initial: AnyMachineSnapshot;
  next(snapshot: AnyMachineSnapshot, event: EventObject): AnyMachineSnapshot;
}

const cache = new WeakMap<AnyStateMachine, PureTransitions>();

export function pureTransitions(machine: AnyStateMachine): PureTransitions {
  let transitions = cache.get(machine);
  if (!transitions) {
    const scope = inertScope(machine);
    const [initial] = initialTransition(machine);
    transitions = {
      initial,
      next: (snapshot, event) => machine.transition(snapshot, event, scope) as AnyMachineSnapshot,
    };
    cache.set(machine, transitions);
  }
  return transitions;
}

function inertScope(machine: AnyStateMachine): AnyActorScope {
  const self = createActor(machine);
  return {
    self,
    id: '',
    sessionId: '',
    system: self.system,
    logger: () => undefined,
    defer: () => undefined,
    emit: () => undefined,
    stopChild: () => undefined,
    actionExecutor: () => undefined,
  } as AnyActorScope;
}
