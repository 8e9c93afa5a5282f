import { initialState, replay, type AggregateRegistry } from '@cqrs/aggregates';
import { NotFoundError, type EventEnvelope } from '@cqrs/core';
import { readStream } from '@cqrs/event-store';
import type { Knex } from 'knex';
import { highlightedStatechart } from './statechart';

export interface StreamEvent extends EventEnvelope {
  /** The W3C trace id from the event's `traceparent`, when the command was traced. */
  readonly traceId: string | null;
}

export interface StreamView {
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly version: number;
  /** The statechart's state value after the last event. */
  readonly state: unknown;
  readonly context: unknown;
  readonly events: readonly StreamEvent[];
  /** Mermaid source of the machine, the current state marked. */
  readonly statechart: string;
}

/**
 * One aggregate as the event store holds it: its events, and the state they replay to
 * through the machine (as the command side computes it), drawn on its statechart.
 */
export async function lookUpStream(
  knex: Knex,
  aggregates: AggregateRegistry,
  aggregateType: string,
  aggregateId: string,
): Promise<StreamView> {
  const definition = aggregates.get(aggregateType);
  if (!definition) throw new NotFoundError(`Unknown aggregate type ${aggregateType}`);
  const events = await readStream(knex, aggregateType, aggregateId);
  if (events.length === 0) {
    throw new NotFoundError(`No events in stream ${aggregateType}:${aggregateId}`);
  }
  const state = replay(definition, initialState(definition, aggregateId), events);
  return {
    aggregateType,
    aggregateId,
    version: state.version,
    state: state.value,
    context: state.context,
    events: events.map((e) => ({ ...e, traceId: traceIdOf(e.metadata.traceparent) })),
    statechart: highlightedStatechart(definition, state.value),
  };
}

function traceIdOf(traceparent: string | undefined): string | null {
  const m = traceparent
    ? /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent)
    : null;
  return m?.[1] ?? null;
}
