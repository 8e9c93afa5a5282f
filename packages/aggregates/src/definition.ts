import type { ClaimKey, Command, FieldProblem } from '@cqrs/core';
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type {
  AnyStateMachine,
  AnyStateNode,
  ContextFrom,
  EventFromLogic,
  SnapshotFrom,
  StateValue,
} from 'xstate';

/**
 * An aggregate type: an XState machine whose events are the domain events and whose states
 * are the lifecycle, plus one handler per command. The machine is the single source of the
 * lifecycle rules: every event a command proposes must be accepted by it.
 */

/** Domain events as the machine sees them: `{ type, data }`, exactly as stored. */
export interface MachineEvent {
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** The union of `{ type, data }` events described by a record of TypeBox data schemas. */
export type EventUnion<TSchemas extends Record<string, TSchema>> = {
  [K in keyof TSchemas & string]: { readonly type: K; readonly data: Static<TSchemas[K]> };
}[keyof TSchemas & string];

/** The state a decision sees: the statechart's value and context at a stream version. */
export interface AggregateState<TMachine extends AnyStateMachine = AnyStateMachine> {
  readonly aggregateType: string;
  readonly aggregateId: string;
  /** Version of the last event applied; 0 = the stream has no events. */
  readonly version: number;
  readonly value: StateValue;
  readonly context: ContextFrom<TMachine>;
  /** The XState snapshot itself, for `can`/`matches`; immutable. */
  readonly snapshot: SnapshotFrom<TMachine>;
}

/** A refusal returned (rather than thrown) by `decide`; the runtime adds the state. */
export interface Rejection {
  readonly kind: 'rejection';
  readonly rule: string;
  readonly reason: string;
  /** Extra problem+json members (e.g. the `nights` a room-available refusal names). */
  readonly details?: Readonly<Record<string, unknown>>;
}

export function reject(
  rule: string,
  reason: string,
  details?: Readonly<Record<string, unknown>>,
): Rejection {
  return details
    ? { kind: 'rejection', rule, reason, details }
    : { kind: 'rejection', rule, reason };
}

export function isRejection(value: unknown): value is Rejection {
  return typeof value === 'object' && value !== null && (value as Rejection).kind === 'rejection';
}

/** What `decide` may use besides the state and the command: all I/O and impurity goes here. */
export interface DecideDeps {
  /** The clock's time, read once per decision. */
  now(): Date;
  newId(): string;
  /**
   * The current state of another aggregate, read strongly from the event store (never from
   * a possibly stale cache). Version 0 = it does not exist.
   */
  load<D extends AnyAggregateDefinition>(
    definition: D,
    aggregateId: string,
  ): Promise<AggregateState<MachineOf<D>>>;
}

export type Decision<TEvent> = TEvent | readonly TEvent[] | Rejection;

export interface CommandHandler<TMachine extends AnyStateMachine, TData extends TSchema> {
  /** The payload schema; a payload that fails it is a ValidationError naming the fields. */
  readonly schema: TData;
  /** Cross-field checks a schema cannot express (e.g. checkOut after checkIn): 400 too. */
  validate?(data: Static<TData>): readonly FieldProblem[];
  // Methods, not function properties: bivariant parameters let a handler of a specific
  // payload sit in a record of handlers of any payload.
  decide(
    state: AggregateState<TMachine>,
    command: Command<string, Static<TData>>,
    deps: DecideDeps,
  ): Decision<EventFromLogic<TMachine>> | Promise<Decision<EventFromLogic<TMachine>>>;
}

/** A command handler with its compiled schema, as the definition stores it. */
export interface CompiledCommand<TMachine extends AnyStateMachine = AnyStateMachine> {
  readonly type: string;
  readonly schema: TSchema;
  readonly check: TypeCheck<TSchema>;
  validate?(data: unknown): readonly FieldProblem[];
  // Method syntax on purpose: parameters stay bivariant so a definition of a concrete
  // machine is assignable to AnyAggregateDefinition.
  decide(
    state: AggregateState<TMachine>,
    command: Command,
    deps: DecideDeps,
  ): Decision<EventFromLogic<TMachine>> | Promise<Decision<EventFromLogic<TMachine>>>;
}

/** What one event does to the stream's unique keys (docs/room-calendar.md). */
export interface ClaimChange {
  readonly acquire?: readonly ClaimKey[];
  readonly release?: readonly ClaimKey[];
}

/**
 * Set-based rules across streams (a room night held by one reservation at most): each event
 * takes or gives back unique keys, written with the events in one transaction. `of` is a pure
 * function of the event and the state before it, so the keys can be rebuilt from the log.
 */
export interface ClaimRules<TMachine extends AnyStateMachine> {
  of(event: EventFromLogic<TMachine>, before: AggregateState<TMachine>): ClaimChange;
  /** The refusal when other streams hold some of the keys (`taken`, never their owners). */
  rejection(taken: readonly ClaimKey[], state: AggregateState<TMachine>): Rejection;
}

/**
 * Turns an old event shape into the next one. `upcasters[type][i]` reads schema version
 * `i + 1` and returns version `i + 2`; the current version of a type is `length + 1`.
 */
export type Upcaster = (data: Readonly<Record<string, unknown>>) => Record<string, unknown>;

export interface AggregateDefinitionInput<
  TMachine extends AnyStateMachine,
  TCommands extends Record<string, CommandHandler<TMachine, TSchema>>,
> {
  /** The stream type, e.g. `reservation`. */
  readonly type: string;
  readonly machine: TMachine;
  readonly commands: TCommands;
  /** Data schemas of the events, by type (documentation, OpenAPI, upcaster targets). */
  readonly events?: Readonly<Record<string, TSchema>>;
  readonly upcasters?: Readonly<Record<string, readonly Upcaster[]>>;
  /** Bump when the context's shape changes: snapshots of another version are ignored. */
  readonly snapshotSchemaVersion?: number;
  readonly claims?: ClaimRules<TMachine>;
  /**
   * The command each named delay of the machine's `after` transitions sends to the stream
   * when it elapses (durable deadlines, docs/room-calendar.md), e.g.
   * `{ reservationHold: 'ExpireReservation' }`.
   */
  readonly deadlines?: Readonly<Record<string, keyof TCommands & string>>;
}

export interface AggregateDefinition<TMachine extends AnyStateMachine = AnyStateMachine> {
  readonly type: string;
  readonly machine: TMachine;
  readonly commands: ReadonlyMap<string, CompiledCommand<TMachine>>;
  readonly events: Readonly<Record<string, TSchema>>;
  readonly upcasters: Readonly<Record<string, readonly Upcaster[]>>;
  readonly snapshotSchemaVersion: number;
  readonly claims?: ClaimRules<TMachine>;
  readonly deadlines: Readonly<Record<string, string>>;
}

/** A definition with its machine type erased, as registries and the runtime hold it. */
export type AnyAggregateDefinition = AggregateDefinition<AnyStateMachine>;
export type MachineOf<D> = D extends AggregateDefinition<infer M> ? M : never;

/**
 * A typed command factory bound to one machine, so each command's payload type is inferred
 * from its schema: `const command = commandsFor(machine); command(Schema, { decide })`.
 */
export function commandsFor<TMachine extends AnyStateMachine>(_machine: TMachine) {
  return <TData extends TSchema>(
    schema: TData,
    handler: Omit<CommandHandler<TMachine, TData>, 'schema'>,
  ): CommandHandler<TMachine, TData> => ({ schema, ...handler });
}

export function defineAggregate<
  TMachine extends AnyStateMachine,
  TCommands extends Record<string, CommandHandler<TMachine, TSchema>>,
>(input: AggregateDefinitionInput<TMachine, TCommands>): AggregateDefinition<TMachine> {
  const commands = new Map<string, CompiledCommand<TMachine>>();
  for (const [type, handler] of Object.entries(input.commands)) {
    commands.set(type, {
      type,
      schema: handler.schema,
      // Compiled once: checking a payload is then a plain function call.
      check: TypeCompiler.Compile(handler.schema),
      ...(handler.validate
        ? { validate: handler.validate as CompiledCommand<TMachine>['validate'] }
        : {}),
      decide: handler.decide as CompiledCommand<TMachine>['decide'],
    });
  }
  const deadlines = input.deadlines ?? {};
  for (const delay of delayNames(input.machine)) {
    if (!deadlines[delay]) {
      throw new Error(`${input.type}: the machine's delay "${delay}" names no deadline command`);
    }
  }
  return {
    type: input.type,
    machine: input.machine,
    commands,
    events: input.events ?? {},
    upcasters: input.upcasters ?? {},
    snapshotSchemaVersion: input.snapshotSchemaVersion ?? 1,
    ...(input.claims ? { claims: input.claims } : {}),
    deadlines,
  };
}

/** Every delay the machine's `after` transitions use, by name (numbers as their text). */
export function delayNames(machine: AnyStateMachine): readonly string[] {
  const names = new Set<string>();
  const visit = (node: AnyStateNode): void => {
    for (const t of node.after) names.add(String(t.delay));
    for (const child of Object.values(node.states)) visit(child as AnyStateNode);
  };
  visit(machine.root as AnyStateNode);
  return [...names];
}

/** The current schema version of an event type (what new events are written with). */
export function currentSchemaVersion(
  definition: AnyAggregateDefinition,
  eventType: string,
): number {
  return (definition.upcasters[eventType]?.length ?? 0) + 1;
}

export type AggregateRegistry = ReadonlyMap<string, AnyAggregateDefinition>;

export function aggregateRegistry(
  ...definitions: readonly AnyAggregateDefinition[]
): AggregateRegistry {
  const registry = new Map<string, AnyAggregateDefinition>();
  for (const d of definitions) {
    if (registry.has(d.type)) throw new Error(`Aggregate type "${d.type}" is defined twice`);
    registry.set(d.type, d);
  }
  return registry;
}
