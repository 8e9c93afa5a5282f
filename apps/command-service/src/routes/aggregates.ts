import type { AggregateRegistry, AggregateRuntime } from '@cqrs/aggregates';
import { NotFoundError, type EventStorePort } from '@cqrs/core';
import { requireBearer } from '@cqrs/http';
import {
  TypeBoxValidatorCompiler,
  type FastifyPluginAsyncTypebox,
} from '@fastify/type-provider-typebox';
import { AggregateParams, AggregateView, EventsQuery, problems, StreamEvents } from '../schemas';

export interface AggregateRoutesOptions {
  readonly runtime: AggregateRuntime;
  readonly store: Pick<EventStorePort, 'readStream'>;
  readonly aggregates: AggregateRegistry;
  readonly apiToken?: string;
}

/** The write side's own view of an aggregate and its stream (strongly consistent). */
export const aggregateRoutes: FastifyPluginAsyncTypebox<AggregateRoutesOptions> = async (
  app,
  opts,
) => {
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  if (opts.apiToken) app.addHook('onRequest', requireBearer(opts.apiToken));

  app.get(
    '/aggregates/:aggregateType/:aggregateId',
    {
      schema: {
        tags: ['aggregates'],
        summary: "An aggregate's current state (statechart value and context)",
        params: AggregateParams,
        response: { 200: AggregateView, ...problems(400, 401, 404, 503) },
      },
    },
    async (request) => {
      const { aggregateType, aggregateId } = request.params;
      return opts.runtime.load(aggregateType, aggregateId);
    },
  );

  app.get(
    '/aggregates/:aggregateType/:aggregateId/events',
    {
      schema: {
        tags: ['aggregates'],
        summary: "An aggregate's events, in version order",
        params: AggregateParams,
        querystring: EventsQuery,
        response: { 200: StreamEvents, ...problems(400, 401, 404, 503) },
      },
    },
    async (request) => {
      const { aggregateType, aggregateId } = request.params;
      if (!opts.aggregates.has(aggregateType)) {
        throw new NotFoundError(`Unknown aggregate type "${aggregateType}"`, { aggregateType });
      }
      const afterVersion = request.query.afterVersion ?? 0;
      const events = await opts.store.readStream(aggregateType, aggregateId, afterVersion);
      if (events.length === 0 && afterVersion === 0) {
        throw new NotFoundError(`${aggregateType} ${aggregateId} does not exist`, {
          aggregateType,
          aggregateId,
        });
      }
      return { events };
    },
  );
};
