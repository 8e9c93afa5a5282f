import { DomainRejectionError, NotFoundError, ValidationError } from '@cqrs/core';
import { ticket } from './__fixtures__/ticket';
import { aggregateTest } from './testing/given-when-then';
import { initialState, replay } from './replay';
import { fromSnapshotRecord, toSnapshotRecord } from './snapshot';
import { toMermaid } from './mermaid';
import { upcast } from './upcasting';
import { pureTransitions } from './pure-transition';
import { initialTransition, transition } from 'xstate';
import type { EventEnvelope } from '@cqrs/core';

const { given } = aggregateTest(ticket, { aggregateId: 't-1' });
const opened = { type: 'TicketOpened', data: { title: 'Leak', priority: 2 } };

describe('decide (pure core)', () => {
  it('appends the events decide proposes when the machine accepts them', async () => {
    const state = await given([])
      .when({ type: 'OpenTicket', data: { title: 'Leak', priority: 2 } })
      .then([opened]);
    expect(state.value).toBe('open');
    expect(state.context).toEqual({ title: 'Leak', priority: 2, links: [] });
    expect(state.version).toBe(1);
  });

  it('refuses an event the state has no transition for, naming the state and the lifecycle rule', async () => {
    const error = await given([opened, { type: 'TicketClosed', data: {} }])
      .when({ type: 'RetitleTicket', data: { title: 'Drip' } })
      .thenRejects({ state: 'closed', rule: 'lifecycle' });
    expect(error.reason).toMatch(/TicketRetitled is not allowed.*closed/);
  });

  it('names the guard that refused an event', async () => {
    await given([opened])
      .when({ type: 'RetitleTicket', data: { title: 'Leak' } })
      .thenRejects({ state: 'open', rule: 'titleChanges' });
  });

  it('turns a returned rejection into a DomainRejectionError carrying the current state', async () => {
    await given([opened])
      .when({ type: 'LinkTicket', data: { otherId: 't-2' } })
      .thenRejects({ state: 'open', rule: 'other-exists' });
  });

  it('lets decide read other aggregates through its deps', async () => {
    const state = await given([opened])
      .and(ticket, 't-2', [opened])
      .when({ type: 'LinkTicket', data: { otherId: 't-2' } })
      .then([{ type: 'TicketLinked', data: { otherId: 't-2' } }]);
    expect(state.context.links).toEqual(['t-2']);
  });

  it('names every invalid field of the payload', async () => {
    const error = await given([])
      .when({ type: 'OpenTicket', data: { title: '', priority: 9, extra: true } })
      .thenInvalid(['data/title', 'data/priority', 'data/extra']);
    expect(error.problems).toHaveLength(3);
  });

  it('names a missing field and a payload that is not an object', async () => {
    await given([])
      .when({ type: 'OpenTicket', data: { title: 'x' } })
      .thenInvalid(['data/priority']);
    await given([])
      .when({ type: 'OpenTicket', data: 'nope' as unknown as Record<string, unknown> })
      .thenInvalid(['data']);
  });

  it('runs the cross-field validation after the schema', async () => {
    await given([])
      .when({ type: 'Reopen', data: { from: 'b', to: 'a' } })
      .thenInvalid(['data/to']);
  });

  it('answers an unknown command with NotFoundError', async () => {
    await given([]).when({ type: 'Explode', data: {} }).thenThrows(NotFoundError);
  });

  it('refuses a decision that proposes nothing (reject instead)', async () => {
    await expect(
      given([])
        .when({ type: 'Reopen', data: { from: 'a', to: 'b' } })
        .then([]),
    ).rejects.toThrow(/decided no events/);
  });

  it('checks each proposed event in the state the previous one leads to', async () => {
    await given([opened, { type: 'TicketClosed', data: {} }])
      .when({ type: 'CloseTicket', data: {} })
      .thenRejects({ state: 'closed' });
  });

  it('the kit reports an unexpected success and the wrong error class', async () => {
    await expect(
      given([])
        .when({ type: 'OpenTicket', data: { title: 'a', priority: 1 } })
        .thenRejects(),
    ).rejects.toThrow(/Expected the command to fail/);
    await expect(given([]).when({ type: 'OpenTicket', data: {} }).thenRejects()).rejects.toThrow(
      /Expected DomainRejectionError, got ValidationError/,
    );
    expect(ValidationError).toBeDefined();
    expect(DomainRejectionError).toBeDefined();
  });
});

function envelope(
  type: string,
  version: number,
  data: Record<string, unknown>,
  schemaVersion = 1,
): EventEnvelope {
  return {
    eventId: `e${version}`,
    streamType: 'ticket',
    streamId: 't-1',
    version,
    position: String(version),
    type,
    schemaVersion,
    occurredAt: '2030-01-01T00:00:00.000000Z',
    data,
    metadata: {},
  };
}

describe('replay', () => {
  it('upcasts old event shapes while replaying', () => {
    const state = replay(ticket, initialState(ticket, 't-1'), [
      envelope('TicketOpened', 1, { title: 'Old' }, 1),
    ]);
    expect(state.context).toEqual({ title: 'Old', priority: 3, links: [] });
    expect(upcast(ticket, 'TicketOpened', 2, { title: 'x', priority: 1 })).toEqual({
      title: 'x',
      priority: 1,
    });
    expect(() => upcast(ticket, 'TicketOpened', 3, {})).toThrow(/knows versions 1-2/);
  });

  it('the given kit upcasts events given with an old schema version', async () => {
    const state = await given([{ type: 'TicketOpened', data: { title: 'Old' }, schemaVersion: 1 }])
      .when({ type: 'RetitleTicket', data: { title: 'New' } })
      .then([{ type: 'TicketRetitled', data: { title: 'New' } }]);
    expect(state.context.priority).toBe(3);
  });

  it('refuses a stream the machine cannot follow, and a gap in versions', () => {
    const start = initialState(ticket, 't-1');
    expect(() => replay(ticket, start, [envelope('TicketClosed', 1, {})])).toThrow(
      /not accepted in state "nonexistent"/,
    );
    expect(() =>
      replay(ticket, start, [envelope('TicketOpened', 2, { title: 'a', priority: 1 }, 2)]),
    ).toThrow(/expected version 1/);
  });

  it('a snapshot restores the same value and context', () => {
    const full = replay(ticket, initialState(ticket, 't-1'), [
      envelope('TicketOpened', 1, { title: 'a', priority: 1 }, 2),
      envelope('TicketLinked', 2, { otherId: 'x' }),
    ]);
    const record = JSON.parse(JSON.stringify(toSnapshotRecord(ticket, full)));
    const restored = fromSnapshotRecord(ticket, record)!;
    expect(restored.version).toBe(2);
    expect(restored.value).toEqual(full.value);
    expect(restored.context).toEqual(full.context);
    const tail = [envelope('TicketClosed', 3, {})];
    expect(replay(ticket, restored, tail).value).toEqual(replay(ticket, full, tail).value);
    expect(fromSnapshotRecord(ticket, { ...record, schemaVersion: 99 })).toBeUndefined();
    expect(
      fromSnapshotRecord(ticket, { ...record, state: { value: 'gone', context: {} } }),
    ).toBeUndefined();
  });
});

describe('toMermaid', () => {
  it('draws every state, transition and guard', () => {
    const diagram = toMermaid(ticket);
    expect(diagram).toContain('stateDiagram-v2');
    expect(diagram).toContain('[*] --> nonexistent');
    expect(diagram).toContain('nonexistent --> open : TicketOpened');
    expect(diagram).toContain('open --> open : TicketRetitled [titleChanges]');
    expect(diagram).toContain('closed --> [*]');
  });
});

describe('pure transitions', () => {
  it("give the same snapshots as XState's own transition()", () => {
    const events = [
      { type: 'TicketOpened', data: { title: 'a', priority: 1 } },
      { type: 'TicketRetitled', data: { title: 'a' } }, // refused by the guard: no change
      { type: 'TicketRetitled', data: { title: 'b' } },
      { type: 'TicketLinked', data: { otherId: 'x' } },
      { type: 'TicketClosed', data: {} },
    ];
    let ours = pureTransitions(ticket.machine).initial;
    let theirs = initialTransition(ticket.machine)[0];
    expect(ours.value).toEqual(theirs.value);
    for (const e of events) {
      ours = pureTransitions(ticket.machine).next(ours, e);
      theirs = transition(ticket.machine, theirs, e as never)[0];
      expect({ value: ours.value, context: ours.context, status: ours.status }).toEqual({
        value: theirs.value,
        context: theirs.context,
        status: theirs.status,
      });
    }
  });
});
