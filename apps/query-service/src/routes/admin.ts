import type { AmqpConnection, PartitionedQueues } from '@cqrs/amqp';
import {
  discardDeadLetter,
  partitionedQueueDepths,
  replayDeadLetter,
  replayDeadLetters,
} from '@cqrs/amqp';
import { NotFoundError } from '@cqrs/core';
import { requireAdmin, type HttpServer } from '@cqrs/http';
import {
  listDeadLetters,
  resolveAlias,
  type IndexNames,
  type ReadModel,
  type Rebuilder,
} from '@cqrs/search';
import type { Client } from '@elastic/elasticsearch';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';

export interface AdminContext {
  readonly client: Client;
  readonly names: IndexNames;
  readonly models: readonly ReadModel[];
  readonly rebuilder: Rebuilder;
  readonly connection: AmqpConnection;
  /** The projector's partitioned queues (their dead letters share `<name>.dlq`). */
  readonly queues: PartitionedQueues;
  readonly adminToken: string | undefined;
  /** Latest checkpoint heard from a projector (this process or another). */
  readonly checkpoint: () => { position: string; at: string | null };
}

const NameParams = Type.Object({ name: Type.String({ pattern: '^[a-z][a-z0-9-]{0,63}$' }) });
const MessageParams = Type.Object({
  messageId: Type.String({ minLength: 1, maxLength: 255 }),
});
const Limit = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) },
  { additionalProperties: false },
);

/**
 * Audit line for an action that changes something (who, when, what): the operator named in
 * `X-Operator` (the console sends it), the client's address and the request id.
 */
function audit(request: FastifyRequest, action: string, details: Record<string, unknown>): void {
  const operator = request.headers['x-operator'];
  request.log.info(
    {
      audit: {
        action,
        operator: typeof operator === 'string' ? operator.slice(0, 100) : null,
        ip: request.ip,
        at: new Date().toISOString(),
        ...details,
      },
    },
    `audit: ${action}`,
  );
}

export function adminRoutes(ctx: AdminContext) {
  return async (app: HttpServer): Promise<void> => {
    app.addHook('preHandler', requireAdmin(ctx.adminToken));
    const find = (name: string) => {
      const model = ctx.models.find((m) => m.projection.name === name);
      if (!model) throw new NotFoundError(`No projection named ${name}`);
      return model;
    };

    app.get(
      '/admin/projections',
      {
        schema: {
          tags: ['admin'],
          summary: 'Each projection: index, lag, checkpoint, rebuild progress',
        },
      },
      async () => {
        const depth = await partitionedQueueDepths(ctx.connection, ctx.queues).catch(() => ({
          ready: null,
          deadLetters: null,
        }));
        const checkpoint = ctx.checkpoint();
        const projections = await Promise.all(
          ctx.models.map(async (m) => {
            const name = m.projection.name;
            const alias = ctx.names.alias(name);
            return {
              name,
              alias,
              index: (await resolveAlias(ctx.client, alias)) ?? null,
              checkpoint: checkpoint.position,
              checkpointAt: checkpoint.at,
              lag: { messages: depth.ready, deadLetters: depth.deadLetters },
              rebuild: ctx.rebuilder.progress(name) ?? null,
            };
          }),
        );
        return { projections };
      },
    );

    app.post(
      '/admin/projections/:name/rebuild',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Rebuild a read model from the event store into a new index, then swap the alias',
          params: NameParams,
        },
      },
      async (request, reply) => {
        const { progress } = ctx.rebuilder.start(find(request.params.name));
        audit(request, 'rebuild', { projection: request.params.name, index: progress.index });
        return reply.status(202).send(progress);
      },
    );

    app.get(
      '/admin/dead-letters',
      {
        schema: {
          tags: ['admin'],
          summary: 'Dead-lettered events, oldest first',
          querystring: Limit,
        },
      },
      async (request) =>
        listDeadLetters(ctx.connection, ctx.queues.name, request.query.limit ?? 100),
    );

    app.post(
      '/admin/dead-letters/replay',
      {
        schema: {
          tags: ['admin'],
          summary: 'Send dead-lettered events back to the projector queue',
          querystring: Limit,
        },
      },
      async (request) => {
        const replayed = await replayDeadLetters(
          ctx.connection,
          ctx.queues.name,
          request.query.limit ?? 100,
          // Through the hash exchange: back into the partition of each event's stream.
          { exchange: ctx.queues.name },
        );
        audit(request, 'replay-all-dead-letters', { replayed });
        return { replayed };
      },
    );

    app.post(
      '/admin/dead-letters/:messageId/replay',
      {
        schema: {
          tags: ['admin'],
          summary: 'Send one dead-lettered event (by message id) back to the projector queue',
          params: MessageParams,
        },
      },
      async (request) => {
        const { messageId } = request.params;
        if (
          !(await replayDeadLetter(ctx.connection, ctx.queues.name, messageId, {
            exchange: ctx.queues.name,
          }))
        ) {
          throw new NotFoundError(`No dead letter with message id ${messageId}`);
        }
        audit(request, 'replay-dead-letter', { messageId });
        return { replayed: 1 };
      },
    );

    app.delete(
      '/admin/dead-letters/:messageId',
      {
        schema: {
          tags: ['admin'],
          summary: 'Discard one dead-lettered event (by message id) for good',
          params: MessageParams,
        },
      },
      async (request) => {
        const { messageId } = request.params;
        if (!(await discardDeadLetter(ctx.connection, ctx.queues.name, messageId))) {
          throw new NotFoundError(`No dead letter with message id ${messageId}`);
        }
        audit(request, 'discard-dead-letter', { messageId });
        return { discarded: 1 };
      },
    );
  };
}
