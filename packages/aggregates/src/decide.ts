import {
  DomainRejectionError,
  NotFoundError,
  ValidationError,
  type ClaimChanges,
  type ClaimKey,
  type Command,
  type FieldProblem,
  type NewEvent,
} from '@cqrs/core';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { getNextTransitions, type AnyMachineSnapshot } from 'xstate';
import {
  currentSchemaVersion,
  isRejection,
  reject,
  type AggregateState,
  type AnyAggregateDefinition,
  type CompiledCommand,
  type DecideDeps,
  type MachineEvent,
  type Rejection,
} from './definition';
import { deadlineDelta, type DeadlineDelta } from './deadlines';
import { tryEvent } from './replay';

/** A command whose type is known to the aggregate and whose payload passed validation. */
export interface ValidCommand {
  readonly handler: CompiledCommand;
  readonly command: Command;
}

/**
 * Checks a command against its aggregate: unknown command -> NotFoundError, payload that
 * fails the schema or the cross-field checks -> ValidationError naming every field.
 * Cheap and stateless, so the runtime does it before queueing on the aggregate.
 */
export function parseCommand(definition: AnyAggregateDefinition, command: Command): ValidCommand {
  const handler = definition.commands.get(command.type);
  if (!handler) {
    throw new NotFoundError(
      `Unknown command "${command.type}" for aggregate type "${definition.type}"`,
      { aggregateType: definition.type, commandType: command.type },
    );
  }
  // `{}` commands (ConfirmReservation) may be sent without `data`.
  const data = command.data === undefined ? {} : command.data;
  if (!handler.check.Check(data)) {
    throw invalid(command.type, [...handler.check.Errors(data)].map(toFieldProblem));
  }
  const problems = handler.validate?.(data) ?? [];
  if (problems.length > 0) throw invalid(command.type, problems);
  return { handler, command: { type: command.type, data } };
}

function invalid(commandType: string, problems: readonly FieldProblem[]): ValidationError {
  const unique = problems.filter(
    (p, i) => problems.findIndex((q) => q.path === p.path) === i, // first problem per field
  );
  return new ValidationError(
    `Invalid ${commandType}: ${unique.map((p) => `${p.path} ${p.message}`).join('; ')}`,
    unique,
  );
}

function toFieldProblem(error: ValueError): FieldProblem {
  const path = `data${error.path}`;
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return { path, message: 'is required' };
    case ValueErrorType.ObjectAdditionalProperties:
      return { path, message: 'is not an allowed field' };
    case ValueErrorType.ObjectMinProperties:
      return { path, message: `needs at least ${String(error.schema.minProperties)} field(s)` };
    case ValueErrorType.StringPattern:
    case ValueErrorType.StringFormat:
      // `description` says what the pattern means (e.g. "an email address").
      return {
        path,
        message: `must be ${typeof error.schema.description === 'string' ? error.schema.description : `a string matching ${String(error.schema.pattern)}`}`,
      };
    case ValueErrorType.Union:
      return {
        path,
        message: `must be ${typeof error.schema.description === 'string' ? error.schema.description : 'one of the allowed values'}`,
      };
    case ValueErrorType.StringMinLength:
      return { path, message: `must be at least ${String(error.schema.minLength)} character(s)` };
    case ValueErrorType.StringMaxLength:
      return { path, message: `must be at most ${String(error.schema.maxLength)} characters` };
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMinimum:
      return { path, message: `must be at least ${String(error.schema.minimum)}` };
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMaximum:
      return { path, message: `must be at most ${String(error.schema.maximum)}` };
    case ValueErrorType.IntegerExclusiveMinimum:
    case ValueErrorType.NumberExclusiveMinimum:
      return { path, message: `must be greater than ${String(error.schema.exclusiveMinimum)}` };
    default:
      return { path, message: error.message.replace(/^Expected/, 'must be') };
  }
}

export interface DecisionOutcome {
  /** The events to append, with their current schema versions. */
  readonly events: readonly NewEvent[];
  /** The state after those events (version = previous version + events.length). */
  readonly state: AggregateState;
  /** Unique keys the events take and give back; undefined when they touch none. */
  readonly claims?: ClaimChanges;
  /** Deadlines of the states the events left and entered. */
  readonly deadlines: DeadlineDelta;
}

/**
 * Pure core of command handling: runs `decide`, then checks every proposed event against
 * the machine in the state it would be applied to, so the statechart is the single
 * source of the lifecycle rules.
 */
export async function decide(
  definition: AnyAggregateDefinition,
  state: AggregateState,
  valid: ValidCommand,
  deps: DecideDeps,
): Promise<DecisionOutcome> {
  const decision = await valid.handler.decide(state, valid.command, deps);
  if (isRejection(decision)) throw rejectionError(decision, state);
  const proposed: readonly MachineEvent[] = Array.isArray(decision)
    ? decision
    : [decision as MachineEvent];
  if (proposed.length === 0) {
    // A command that changes nothing should say why (reject) rather than append nothing.
    throw new Error(`${definition.type}.${valid.command.type} decided no events`);
  }
  const states = [state];
  for (const event of proposed) {
    const before = states[states.length - 1]!;
    // One transition: it both checks the event (guards included) and applies it.
    states.push(
      tryEvent(definition, before, event, before.version + 1) ?? throwRefusal(before, event),
    );
  }
  const claims = claimChanges(definition, proposed, states);
  return {
    events: proposed.map((e) => ({
      type: e.type,
      data: e.data,
      schemaVersion: currentSchemaVersion(definition, e.type),
    })),
    state: states[states.length - 1]!,
    ...(claims ? { claims } : {}),
    deadlines: deadlineDelta(definition, states),
  };
}

/** A refusal as the error the HTTP layer maps to 422. */
export function rejectionError(rejection: Rejection, state: AggregateState): DomainRejectionError {
  return new DomainRejectionError(rejection.reason, state.value, rejection.rule, rejection.details);
}

/**
 * The keys the events take and give back, each event seeing the state before it. A key taken
 * and given back within one decision is neither.
 */
export function claimChanges(
  definition: AnyAggregateDefinition,
  events: readonly MachineEvent[],
  states: readonly AggregateState[],
): ClaimChanges | undefined {
  if (!definition.claims) return undefined;
  const acquire = new Map<string, ClaimKey>();
  const release = new Map<string, ClaimKey>();
  events.forEach((event, i) => {
    const change = definition.claims!.of(event as never, states[i]!);
    for (const k of change.acquire ?? []) acquire.set(`${k.scope}\n${k.key}`, k);
    for (const k of change.release ?? []) {
      const id = `${k.scope}\n${k.key}`;
      if (!acquire.delete(id)) release.set(id, k);
    }
  });
  if (acquire.size === 0 && release.size === 0) return undefined;
  return { acquire: sortKeys(acquire), release: sortKeys(release) };
}

/**
 * Sorted, so concurrent appends insert overlapping keys in one global order and wait for
 * each other instead of deadlocking.
 */
function sortKeys(keys: ReadonlyMap<string, ClaimKey>): ClaimKey[] {
  return [...keys.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, k]) => k);
}

/**
 * The lifecycle rejection a command would meet if it proposed `eventType` now, or undefined
 * when the current state has a transition for it. Lets `decide` refuse early (before
 * reading other aggregates) while the machine stays the only place the rule is written.
 */
export function lifecycleRejection(
  state: AggregateState,
  eventType: string,
): Rejection | undefined {
  const snapshot = state.snapshot as AnyMachineSnapshot;
  if (getNextTransitions(snapshot).some((t) => t.eventType === eventType)) return undefined;
  return reject(
    'lifecycle',
    `${eventType} is not allowed: ${state.aggregateType} ${state.aggregateId} is in state ${JSON.stringify(state.value)}`,
  );
}

function throwRefusal(state: AggregateState, event: MachineEvent): never {
  throw refusal(state, event);
}

/**
 * Names the rule that refused: the guards of the transitions the event would take, or
 * `lifecycle` when the state has no transition for it at all.
 */
function refusal(state: AggregateState, event: MachineEvent): DomainRejectionError {
  const snapshot = state.snapshot as AnyMachineSnapshot;
  const guards = getNextTransitions(snapshot)
    .filter((t) => t.eventType === event.type)
    .map((t) => guardName(t.guard))
    .filter((g): g is string => g !== undefined);
  const where = JSON.stringify(state.value);
  if (guards.length === 0) {
    return rejectionError(
      lifecycleRejection(state, `${event.type}`) ?? reject('lifecycle', ''),
      state,
    );
  }
  return new DomainRejectionError(
    `${event.type} was refused by ${guards.join(', ')} in state ${where}`,
    state.value,
    guards.join(','),
  );
}

function guardName(guard: unknown): string | undefined {
  if (guard === undefined) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && guard !== null && 'type' in guard) {
    return String((guard as { type: unknown }).type);
  }
  return 'guard';
}
