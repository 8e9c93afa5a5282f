import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { uuidV7 } from '@cqrs/core';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type RawServerDefault,
} from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { errorHandler, problem, sendProblem } from './problem';

export type HttpServer = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** A named dependency check for `/health`: resolves when healthy, rejects with the reason. */
export type HealthCheck = () => Promise<unknown>;

export interface HttpServerOptions {
  /** Service name: the OpenAPI title, the log `name` and the metrics' `service` label. */
  readonly name: string;
  readonly description?: string;
  readonly version?: string;
  readonly logger: FastifyBaseLogger;
  readonly healthChecks?: Readonly<Record<string, HealthCheck>>;
  readonly metrics?: Registry;
  readonly bodyLimit?: number;
}

const HealthResponse = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  service: Type.String(),
  checks: Type.Record(
    Type.String(),
    Type.Object({ status: Type.String(), detail: Type.Optional(Type.String()) }),
  ),
});

/**
 * A Fastify instance with what every app serves the same way: problem+json errors from one
 * handler, request/correlation ids, `/health`, `/metrics`, and the OpenAPI document at
 * `/docs/json` with a UI at `/docs`. Apps register their route plugins on it.
 */
export async function createHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const app = Fastify({
    loggerInstance: opts.logger,
    bodyLimit: opts.bodyLimit ?? 64 * 1024,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : uuidV7();
    },
    ajv: { customOptions: { allErrors: true, coerceTypes: 'array', removeAdditional: false } },
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, {
      ...problem(404, 'route-not-found', `No route ${request.method} ${request.url}`),
      instance: request.url,
    }),
  );
  app.addHook('onRequest', async (request, reply) => {
    const correlationId = request.headers['x-correlation-id'];
    const id =
      typeof correlationId === 'string' && /^[\w.:-]{1,128}$/.test(correlationId)
        ? correlationId
        : request.id;
    request.correlationId = id;
    request.log = request.log.child({ correlationId: id });
    void reply.header('x-request-id', request.id);
  });

  const registry = opts.metrics ?? new Registry();
  if (!opts.metrics) collectDefaultMetrics({ register: registry });
  registry.setDefaultLabels({ service: opts.name });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    httpDuration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: opts.name,
        description: opts.description ?? opts.name,
        version: opts.version ?? '0.1.0',
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const checks = opts.healthChecks ?? {};
  app.get(
    '/health',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness and dependency health',
        response: { 200: HealthResponse, 503: HealthResponse },
      },
    },
    async (_request, reply) => {
      const results = await Promise.all(
        Object.entries(checks).map(async ([name, check]) => {
          try {
            await withTimeout(check(), 2000, name);
            return [name, { status: 'ok' }] as const;
          } catch (err) {
            return [name, { status: 'failing', detail: (err as Error).message }] as const;
          }
        }),
      );
      const healthy = results.every(([, r]) => r.status === 'ok');
      return reply.status(healthy ? 200 : 503).send({
        status: healthy ? 'ok' : 'unavailable',
        service: opts.name,
        checks: Object.fromEntries(results),
      });
    },
  );
  app.get(
    '/metrics',
    { schema: { tags: ['operations'], summary: 'Prometheus metrics', hide: true } },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
  return app;
}

function withTimeout<T>(p: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name} did not answer within ${ms} ms`)), ms);
    }),
  ]);
}

declare module 'fastify' {
  interface FastifyRequest {
    correlationId: string;
  }
}
