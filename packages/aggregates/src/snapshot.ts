import type { SnapshotRecord } from '@cqrs/core';
import type { StateValue } from 'xstate';
import type { AggregateState, AnyAggregateDefinition } from './definition';
import { stateAt } from './replay';

/** What a persisted snapshot holds: the statechart value and the context, nothing live. */
export interface PersistedAggregateState {
  readonly value: StateValue;
  readonly context: unknown;
}

export function toSnapshotRecord(
  definition: AnyAggregateDefinition,
  state: AggregateState,
): SnapshotRecord {
  const persisted: PersistedAggregateState = { value: state.value, context: state.context };
  return {
    streamType: definition.type,
    streamId: state.aggregateId,
    version: state.version,
    state: persisted,
    schemaVersion: definition.snapshotSchemaVersion,
  };
}

/**
 * Restores a state from a snapshot record; undefined when the record was written for
 * another snapshot schema version (the caller then replays the full stream).
 */
export function fromSnapshotRecord(
  definition: AnyAggregateDefinition,
  record: SnapshotRecord,
): AggregateState | undefined {
  if (record.schemaVersion !== definition.snapshotSchemaVersion) return undefined;
  const persisted = record.state as PersistedAggregateState | null;
  if (!persisted || typeof persisted !== 'object' || !('value' in persisted)) return undefined;
  try {
    const snapshot = definition.machine.resolveState({
      value: persisted.value,
      context: persisted.context,
    });
    return stateAt(definition, record.streamId, snapshot, record.version);
  } catch {
    // A state the machine no longer has (renamed without bumping snapshotSchemaVersion):
    // the snapshot is only an optimisation, so fall back to the full stream.
    return undefined;
  }
}
