import { Type } from '@sinclair/typebox';
import { assign, setup } from 'xstate';
import { commandsFor, defineAggregate, reject, type EventUnion } from '../definition';

/** A small aggregate that exercises every feature of the kit; test fixture only. */
export const TicketEvents = {
  TicketOpened: Type.Object({ title: Type.String(), priority: Type.Integer() }),
  TicketRetitled: Type.Object({ title: Type.String() }),
  TicketLinked: Type.Object({ otherId: Type.String() }),
  TicketClosed: Type.Object({}),
};
export type TicketEvent = EventUnion<typeof TicketEvents>;

export const ticketMachine = setup({
  types: {
    context: {} as { title: string; priority: number; links: readonly string[] },
    events: {} as TicketEvent,
  },
  guards: {
    titleChanges: ({ context, event }) =>
      event.type === 'TicketRetitled' && event.data.title !== context.title,
  },
  actions: {
    recordOpening: assign(({ event }) =>
      event.type === 'TicketOpened'
        ? { title: event.data.title, priority: event.data.priority, links: [] }
        : {},
    ),
    recordTitle: assign({
      title: ({ context, event }) =>
        event.type === 'TicketRetitled' ? event.data.title : context.title,
    }),
    recordLink: assign({
      links: ({ context, event }) =>
        event.type === 'TicketLinked' ? [...context.links, event.data.otherId] : context.links,
    }),
  },
}).createMachine({
  id: 'ticket',
  context: { title: '', priority: 0, links: [] },
  initial: 'nonexistent',
  states: {
    nonexistent: { on: { TicketOpened: { target: 'open', actions: 'recordOpening' } } },
    open: {
      on: {
        TicketRetitled: { guard: 'titleChanges', actions: 'recordTitle' },
        TicketLinked: { actions: 'recordLink' },
        TicketClosed: { target: 'closed' },
      },
    },
    closed: { type: 'final' },
  },
});

const command = commandsFor(ticketMachine);

export const ticket = defineAggregate({
  type: 'ticket',
  machine: ticketMachine,
  events: TicketEvents,
  // v1 of TicketOpened had no priority.
  upcasters: { TicketOpened: [(data) => ({ ...data, priority: 3 })] },
  commands: {
    OpenTicket: command(
      Type.Object(
        {
          title: Type.String({ minLength: 1, maxLength: 20 }),
          priority: Type.Integer({ minimum: 1, maximum: 5 }),
        },
        { additionalProperties: false },
      ),
      { decide: (_state, { data }) => ({ type: 'TicketOpened', data }) },
    ),
    RetitleTicket: command(
      Type.Object({ title: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
      { decide: (_state, { data }) => ({ type: 'TicketRetitled', data }) },
    ),
    LinkTicket: command(Type.Object({ otherId: Type.String() }, { additionalProperties: false }), {
      async decide(_state, { data }, deps) {
        const other = await deps.load(ticket, data.otherId);
        if (other.version === 0)
          return reject('other-exists', `Ticket ${data.otherId} does not exist`);
        return { type: 'TicketLinked', data };
      },
    }),
    CloseTicket: command(Type.Object({}, { additionalProperties: false }), {
      decide: () => [{ type: 'TicketClosed', data: {} }],
    }),
    Reopen: command(Type.Object({ from: Type.String(), to: Type.String() }), {
      validate: (data) =>
        data.to > data.from ? [] : [{ path: 'data/to', message: 'must be after from' }],
      decide: () => [],
    }),
  },
});
