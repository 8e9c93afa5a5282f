import { Type, type Static } from '@sinclair/typebox';

/**
 * The command API's request and response schemas: Fastify validates with them and the
 * OpenAPI document at /docs is generated from them. The payload of each command is checked
 * by the aggregate runtime against that command's own TypeBox schema (the same schemas are
 * listed in the OpenAPI components), so an unknown command is a 404 before any payload rule.
 */

export const AggregateParams = Type.Object({
  aggregateType: Type.String({ description: 'customer, room or reservation', examples: ['room'] }),
  aggregateId: Type.String({
    pattern: '^[A-Za-z0-9_-]{1,64}$',
    description: '1-64 characters of [A-Za-z0-9_-], chosen by the client',
    examples: ['r-101'],
  }),
});
export type AggregateParams = Static<typeof AggregateParams>;

export const CommandHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      pattern: '^[\\x20-\\x7E]{1,128}$',
      description:
        'Repeating a request with the same key and command returns the original response and appends nothing',
    }),
  ),
  'if-match': Type.Optional(
    Type.String({
      pattern: '^"(0|[1-9][0-9]{0,9})"$',
      description: 'Expected current stream version, quoted; "0" = the stream must not exist yet',
      examples: ['"3"'],
    }),
  ),
});
export type CommandHeaders = Static<typeof CommandHeaders>;

export const CommandBody = Type.Object(
  {
    type: Type.String({ minLength: 1, maxLength: 128, examples: ['RegisterRoom'] }),
    data: Type.Optional(
      Type.Object(
        {},
        {
          additionalProperties: true,
          description: "The command's payload; see the command schemas in the components",
        },
      ),
    ),
  },
  { additionalProperties: false },
);
export type CommandBody = Static<typeof CommandBody>;

export const CommandAccepted = Type.Object({
  aggregateType: Type.String(),
  aggregateId: Type.String(),
  version: Type.Integer(),
  position: Type.String({ description: 'Global position of the last appended event' }),
  events: Type.Array(Type.Object({ type: Type.String(), version: Type.Integer() })),
  consistencyToken: Type.String({ examples: ['reservation:r-1@2'] }),
});
export type CommandAccepted = Static<typeof CommandAccepted>;

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.Optional(Type.String()),
  },
  { additionalProperties: true, description: 'RFC 9457 problem details' },
);

export const AggregateView = Type.Object({
  aggregateType: Type.String(),
  aggregateId: Type.String(),
  version: Type.Integer(),
  state: Type.Unknown({ description: "The statechart's state value" }),
  context: Type.Unknown(),
});

export const EventsQuery = Type.Object({
  afterVersion: Type.Optional(
    Type.Integer({ minimum: 0, description: 'Only events with a greater version' }),
  ),
});

export const StoredEvent = Type.Object({
  eventId: Type.String(),
  type: Type.String(),
  version: Type.Integer(),
  position: Type.String(),
  occurredAt: Type.String(),
  data: Type.Record(Type.String(), Type.Unknown()),
  metadata: Type.Record(Type.String(), Type.Unknown()),
});

export const StreamEvents = Type.Object({ events: Type.Array(StoredEvent) });

/** The problem responses a route may give, for its OpenAPI entry. */
export function problems(...statuses: readonly number[]): Record<number, typeof Problem> {
  return Object.fromEntries(statuses.map((s) => [s, Problem]));
}
