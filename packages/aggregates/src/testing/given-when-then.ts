import {
  AppError,
  DomainRejectionError,
  ValidationError,
  type Command,
  type EventEnvelope,
} from '@cqrs/core';
import { AssertionError, deepStrictEqual } from 'node:assert';
import type { StateValue } from 'xstate';
import type {
  AggregateState,
  AnyAggregateDefinition,
  DecideDeps,
  MachineEvent,
  MachineOf,
} from '../definition';
import { decide, parseCommand, type DecisionOutcome } from '../decide';
import { initialState, replay } from '../replay';

/**
 * Given/when/then for aggregates, runner-agnostic (assertions throw node's AssertionError):
 *
 *   const { given } = aggregateTest(reservation);
 *   await given([placed]).when({ type: 'ConfirmReservation', data: {} })
 *     .then([{ type: 'ReservationConfirmed', data: {} }]);
 */

/** A past event; `schemaVersion` (default current) lets tests exercise upcasters. */
export interface GivenEvent extends MachineEvent {
  readonly schemaVersion?: number;
}

export interface AggregateTestOptions {
  readonly now?: Date;
  readonly ids?: readonly string[];
  readonly aggregateId?: string;
}

export interface Scenario {
  /** Other aggregates `decide` may load through its deps (e.g. the customer of a reservation). */
  and(
    definition: AnyAggregateDefinition,
    aggregateId: string,
    events: readonly GivenEvent[],
  ): Scenario;
  when(command: Command): Outcome;
}

export interface RejectionExpectation {
  readonly state?: StateValue;
  readonly rule?: string;
  readonly reason?: string | RegExp;
}

export interface Outcome {
  /** The command is accepted and appends exactly these events. */
  then(expected: readonly MachineEvent[]): Promise<AggregateState>;
  /** The aggregate refuses (422): optionally in this state, by this rule. */
  thenRejects(expected?: RejectionExpectation): Promise<DomainRejectionError>;
  /** The payload is invalid (400), naming at least these fields (paths like `data/email`). */
  thenInvalid(fields?: readonly string[]): Promise<ValidationError>;
  /** Any other expected failure, by error class. */
  thenThrows<E extends AppError>(type: new (...args: never[]) => E): Promise<E>;
  /** The whole accepted decision: events, the keys they claim and release, their deadlines. */
  decision(): Promise<DecisionOutcome>;
}

export function aggregateTest(
  definition: AnyAggregateDefinition,
  options: AggregateTestOptions = {},
) {
  const aggregateId = options.aggregateId ?? `${definition.type}-1`;
  return {
    given(events: readonly GivenEvent[] = []): Scenario {
      return scenario(definition, aggregateId, options, events, new Map());
    },
  };
}

type Others = ReadonlyMap<
  string,
  { definition: AnyAggregateDefinition; events: readonly GivenEvent[] }
>;

function scenario(
  definition: AnyAggregateDefinition,
  aggregateId: string,
  options: AggregateTestOptions,
  events: readonly GivenEvent[],
  others: Others,
): Scenario {
  return {
    and(other, otherId, otherEvents) {
      const next = new Map(others);
      next.set(`${other.type}:${otherId}`, { definition: other, events: otherEvents });
      return scenario(definition, aggregateId, options, events, next);
    },
    when(command) {
      const run = async () => {
        const state = history(definition, aggregateId, events);
        const valid = parseCommand(definition, command);
        return decide(definition, state, valid, deps(options, others));
      };
      return outcome(run);
    },
  };
}

function history(
  definition: AnyAggregateDefinition,
  aggregateId: string,
  events: readonly GivenEvent[],
): AggregateState {
  const envelopes = events.map((e, i): EventEnvelope => ({
    eventId: `given-${i + 1}`,
    streamType: definition.type,
    streamId: aggregateId,
    version: i + 1,
    position: String(i + 1),
    type: e.type,
    schemaVersion: e.schemaVersion ?? (definition.upcasters[e.type]?.length ?? 0) + 1,
    occurredAt: new Date(0).toISOString(),
    data: e.data,
    metadata: {},
  }));
  return replay(definition, initialState(definition, aggregateId), envelopes);
}

function deps(options: AggregateTestOptions, others: Others): DecideDeps {
  const ids = [...(options.ids ?? [])];
  let counter = 0;
  return {
    now: () => options.now ?? new Date('2030-01-01T00:00:00.000Z'),
    newId: () => ids.shift() ?? `id-${++counter}`,
    async load<D extends AnyAggregateDefinition>(other: D, id: string) {
      const given = others.get(`${other.type}:${id}`);
      return history(other, id, given?.events ?? []) as AggregateState<MachineOf<D>>;
    },
  };
}

function outcome(run: () => Promise<DecisionOutcome>): Outcome {
  const failure = async (): Promise<unknown> => {
    let events: readonly MachineEvent[];
    try {
      events = (await run()).events;
    } catch (error) {
      return error;
    }
    throw new AssertionError({
      message: `Expected the command to fail, but it appended ${JSON.stringify(events.map((e) => e.type))}`,
    });
  };
  return {
    async then(expected) {
      if (typeof expected === 'function') {
        throw new TypeError(
          'when(...) is not awaitable: call .then([...events]) or .thenRejects()',
        );
      }
      const decided = await run();
      deepStrictEqual(
        decided.events.map((e) => ({ type: e.type, data: e.data })),
        expected.map((e) => ({ type: e.type, data: e.data })),
      );
      return decided.state;
    },
    async thenRejects(expected = {}) {
      const error = await failure();
      if (!(error instanceof DomainRejectionError)) throw unexpected('DomainRejectionError', error);
      if (expected.state !== undefined) deepStrictEqual(error.state, expected.state);
      if (expected.rule !== undefined) deepStrictEqual(error.rule, expected.rule);
      if (typeof expected.reason === 'string') deepStrictEqual(error.reason, expected.reason);
      if (expected.reason instanceof RegExp && !expected.reason.test(error.reason)) {
        throw new AssertionError({
          message: `Reason "${error.reason}" does not match ${String(expected.reason)}`,
        });
      }
      return error;
    },
    async thenInvalid(fields = []) {
      const error = await failure();
      if (!(error instanceof ValidationError)) throw unexpected('ValidationError', error);
      const named = error.problems.map((p) => p.path);
      const missing = fields.filter((f) => !named.includes(f));
      if (missing.length > 0) {
        throw new AssertionError({
          message: `ValidationError does not name ${missing.join(', ')}: ${error.message}`,
        });
      }
      return error;
    },
    async thenThrows(type) {
      const error = await failure();
      if (!(error instanceof type)) throw unexpected(type.name, error);
      return error;
    },
    decision: run,
  };
}

function unexpected(expected: string, error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  return new AssertionError({
    message: `Expected ${expected}, got ${error.name}: ${error.message}`,
  });
}
