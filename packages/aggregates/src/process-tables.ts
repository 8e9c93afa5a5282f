import type { ClaimKey, EventEnvelope } from '@cqrs/core';
import { claimChanges } from './decide';
import { deadlineDelta, delayMs } from './deadlines';
import type { AggregateRegistry, AggregateState } from './definition';
import { initialState, replay } from './replay';
import { upcast } from './upcasting';

/** A claim as derived from the log: the key, its holder, the time of the event that took it. */
export interface DerivedClaim extends ClaimKey {
  readonly streamType: string;
  readonly streamId: string;
  readonly claimedAt: string;
}

export interface DerivedDeadline {
  readonly streamType: string;
  readonly streamId: string;
  readonly name: string;
  readonly command: string;
  readonly dueAt: Date;
}

/**
 * Rebuilds the claims and deadlines tables from the event log (`npm run claims:rebuild`),
 * through the same pure functions the runtime uses when it appends: feed every event in
 * position order, then read `claims()` and `deadlines()`. Only streams of aggregates with
 * claims or delays are replayed; their states are held in memory meanwhile.
 */
export class ProcessTablesBuilder {
  private readonly states = new Map<string, AggregateState>();
  private readonly held = new Map<string, DerivedClaim>();
  private readonly scheduled = new Map<string, DerivedDeadline>();

  constructor(
    private readonly aggregates: AggregateRegistry,
    private readonly delays: Readonly<Record<string, number>> = {},
  ) {}

  apply(event: EventEnvelope): void {
    const definition = this.aggregates.get(event.streamType);
    if (!definition) return;
    if (!definition.claims && Object.keys(definition.deadlines).length === 0) return;
    const stream = `${event.streamType}:${event.streamId}`;
    const before = this.states.get(stream) ?? initialState(definition, event.streamId);
    const after = replay(definition, before, [event]);
    this.states.set(stream, after);

    // The upcast data, as the machine saw it (replay upcasts).
    const data = upcast(definition, event.type, event.schemaVersion, event.data);
    const claims = claimChanges(definition, [{ type: event.type, data }], [before, after]);
    for (const k of claims?.release ?? []) {
      const id = `${k.scope}\n${k.key}`;
      const holder = this.held.get(id);
      if (holder?.streamType === event.streamType && holder.streamId === event.streamId) {
        this.held.delete(id);
      }
    }
    for (const k of claims?.acquire ?? []) {
      this.held.set(`${k.scope}\n${k.key}`, {
        ...k,
        streamType: event.streamType,
        streamId: event.streamId,
        claimedAt: event.occurredAt,
      });
    }

    const delta = deadlineDelta(definition, [before, after]);
    for (const name of delta.cancel) this.scheduled.delete(`${stream}/${name}`);
    for (const d of delta.start) {
      this.scheduled.set(`${stream}/${d.name}`, {
        streamType: event.streamType,
        streamId: event.streamId,
        name: d.name,
        command: d.command,
        dueAt: new Date(
          Date.parse(event.occurredAt) + delayMs(definition.machine, d.delay, after, this.delays),
        ),
      });
    }
  }

  claims(): readonly DerivedClaim[] {
    return [...this.held.values()];
  }

  deadlines(): readonly DerivedDeadline[] {
    return [...this.scheduled.values()];
  }
}
