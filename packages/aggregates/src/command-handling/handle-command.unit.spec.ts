import {
  IdempotencyConflictError,
  NotFoundError,
  type IdempotencyClaim,
  type IdempotencyGate,
} from '@cqrs/core';
import { ticket } from '../__fixtures__/ticket';
import { aggregateRegistry } from '../definition';
import { AggregateRuntime } from '../runtime/aggregate-runtime';
import { InMemoryEventStore } from '../testing/in-memory-event-store';
import { handleCommand, type CommandHandling, type EdgeOutcome } from './handle-command';

/** The claim protocol over the in-memory store's records: pending claims live in a set. */
class InMemoryGate implements IdempotencyGate {
  readonly pending = new Set<string>();
  constructor(private readonly store: InMemoryEventStore) {}
  async claimIdempotencyKey(key: string, fingerprint: string): Promise<IdempotencyClaim> {
    const record = await this.store.findIdempotencyRecord(key);
    if (record && record.fingerprint !== fingerprint)
      throw new IdempotencyConflictError('mismatch', key);
    if (record) return { kind: 'replay', record };
    if (this.pending.has(key)) throw new IdempotencyConflictError('in-flight', key);
    this.pending.add(key);
    return { kind: 'claimed', key, fingerprint, token: key };
  }
  async releaseIdempotencyKey(claim: { key: string }): Promise<void> {
    this.pending.delete(claim.key);
  }
}

describe('handleCommand (no transport)', () => {
  const metadata = { correlationId: 'c-1' };
  const open = { type: 'OpenTicket', data: { title: 'Leak', priority: 2 } };
  let store: InMemoryEventStore;
  let runtime: AggregateRuntime;
  let handling: CommandHandling;
  let edges: EdgeOutcome[];

  beforeEach(() => {
    store = new InMemoryEventStore();
    const aggregates = aggregateRegistry(ticket);
    runtime = new AggregateRuntime({ store, aggregates, idlePassivationMs: 0 });
    edges = [];
    handling = {
      runtime,
      aggregates,
      idempotency: new InMemoryGate(store),
      log: { warn: () => undefined },
      recordEdge: (_type, _command, outcome) => edges.push(outcome),
    };
  });
  afterEach(() => runtime.close());

  it('answers a repeat of a keyed command with the original result and appends nothing', async () => {
    const request = { aggregateType: 'ticket', aggregateId: 't-1', command: open, metadata };
    const first = await handleCommand(handling, { ...request, idempotencyKey: 'k-1' });
    const again = await handleCommand(handling, { ...request, idempotencyKey: 'k-1' });
    expect(first).toMatchObject({
      created: true,
      replayed: false,
      consistencyToken: 'ticket:t-1@1',
    });
    expect(again).toEqual({ ...first, replayed: true });
    expect(await store.readStream('ticket', 't-1')).toHaveLength(1);
    expect(edges).toEqual(['replayed']);
  });

  it('releases the claim of a command that fails, so a retry may use the key', async () => {
    const gate = handling.idempotency as InMemoryGate;
    const retitle = { type: 'RetitleTicket', data: { title: 'x' } };
    const request = { aggregateType: 'ticket', aggregateId: 't-2', metadata };
    await expect(
      handleCommand(handling, { ...request, command: retitle, idempotencyKey: 'k-2' }),
    ).rejects.toThrow();
    expect(gate.pending.has('k-2')).toBe(false);
  });

  it('refuses an unknown aggregate type before claiming any key', async () => {
    const gate = handling.idempotency as InMemoryGate;
    await expect(
      handleCommand(handling, {
        aggregateType: 'nope',
        aggregateId: 'n-1',
        command: open,
        metadata,
        idempotencyKey: 'k-3',
      }),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect(gate.pending.size).toBe(0);
    expect(edges).toEqual(['not-found']);
  });
});
