import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { uuidV7, ValidationError } from '@cqrs/core';
import {
  FastHistogram,
  isTracing,
  SpanKind,
  SpanStatusCode,
  startSpan,
  traceparentOf,
  type Span,
} from '@cqrs/telemetry';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type RawServerDefault,
} from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { answerClientError } from './client-errors';
import { registerJsonBodyParser } from './json-body';
import { firstIllFormedValue } from './well-formed';
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
  /**
   * Longest path parameter the router matches (Fastify's default is 100; longer ones are a
   * 404 "no route"). Raise it when a route must answer 400 for an over-long id instead.
   */
  readonly maxParamLength?: number;
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
    ...(opts.maxParamLength !== undefined
      ? { routerOptions: { maxParamLength: opts.maxParamLength } }
      : {}),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : uuidV7();
    },
    // The request's one child logger carries the correlation id too (a second child per
    // request cost ~2 % of a command's CPU). Its bindings are a literal, not a spread of
    // Fastify's `{ reqId }`, and it gets no options object when the route sets none: pino's
    // `child` took ~9 us that way, ~1 us this way.
    childLoggerFactory: (logger, bindings, childOptions, req) => {
      const reqId = String(bindings.reqId);
      return logger.child(
        { reqId, correlationId: correlationIdOf(req, reqId) },
        hasOwnKeys(childOptions) ? childOptions : undefined,
      );
    },
    ajv: { customOptions: { allErrors: true, coerceTypes: 'array', removeAdditional: false } },
    // What the router or Node's HTTP parser refuse (bad percent-encoding in the path, a
    // control character in a header, an unknown method) is a problem+json 4xx too.
    frameworkErrors: errorHandler,
    clientErrorHandler: answerClientError,
    return503OnClosing: true,
    // One access line per request (written in onResponse) instead of Fastify's two: request
    // logging was ~15% of a command's CPU at info level.
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<TypeBoxTypeProvider>();

  // JSON only: Fastify would otherwise accept text/plain and answer 400 where 415 is right.
  app.removeAllContentTypeParsers();
  registerJsonBodyParser(app);
  // Graceful close: requests in flight finish, but their keep-alive connections must not
  // hold `close()` open until the client's idle timeout - answer them with `Connection: close`.
  // Hooks on every request take a callback rather than return a promise: cheaper per request.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });
  app.setErrorHandler(errorHandler);
  // After validation: Ajv coerces `?size=Infinity` to Infinity and lets it through as an
  // integer (its range checks skip non-finite numbers; `strictNumbers` does not help with
  // coercion). JSON bodies are checked by their parser.
  app.addHook('preHandler', (request, _reply, done) => {
    const problem =
      firstIllFormedValue(request.query, 'querystring') ??
      firstIllFormedValue(request.params, 'params');
    done(
      problem ? new ValidationError(`${problem.path} ${problem.message}`, [problem]) : undefined,
    );
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, {
      ...problem(404, 'route-not-found', `No route ${request.method} ${request.url}`),
      instance: request.url,
    }),
  );
  // Declared up front so every request object has the same shape.
  app.decorateRequest('correlationId', '');
  app.decorateRequest('span', undefined);
  app.decorateRequest('traceparent', undefined);
  app.addHook('onRequest', (request, reply, done) => {
    request.correlationId = correlationIdOf(request.raw, request.id);
    // A SERVER span whose parent is the caller's `traceparent`; commands copy
    // `request.traceparent` into their events' metadata, so the trace continues through the
    // relay and the projector. With tracing off the caller's context passes through unchanged;
    // with tracing off and no caller's context there is nothing to record or pass on, so no
    // span is made (it was ~2 % of a command's CPU).
    const parent = request.headers.traceparent;
    if (parent !== undefined || isTracing()) {
      const span = startSpan(
        opts.name,
        `${request.method} ${request.routeOptions.url ?? 'unmatched'}`,
        {
          kind: SpanKind.SERVER,
          parent: { traceparent: parent, tracestate: request.headers.tracestate },
          attributes: {
            'http.request.method': request.method,
            'url.path': request.url.split('?')[0],
          },
        },
      );
      request.span = span;
      request.traceparent = traceparentOf(span);
      if (request.traceparent)
        request.log = request.log.child({ traceId: span.spanContext().traceId });
    }
    void reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onError', (request, _reply, error, done) => {
    request.span?.recordException(error);
    done();
  });

  const registry = opts.metrics ?? new Registry();
  if (!opts.metrics) collectDefaultMetrics({ register: registry });
  registry.setDefaultLabels({ service: opts.name });
  const httpDuration = new FastHistogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    httpDuration
      .series(request.method, route, String(reply.statusCode))
      .observe(reply.elapsedTime / 1000);
    request.log.info(
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request completed',
    );
    request.span?.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) request.span?.setStatus({ code: SpanStatusCode.ERROR });
    request.span?.end();
    done();
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

function hasOwnKeys(o: object): boolean {
  for (const key in o) if (Object.hasOwn(o, key)) return true;
  return false;
}

/** The caller's `X-Correlation-Id` when well-formed, else the request id. */
function correlationIdOf(req: IncomingMessage, requestId: string): string {
  const given = req.headers['x-correlation-id'];
  return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : requestId;
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
    /** The request's SERVER span (a non-recording one when tracing is off). */
    span?: Span;
    /** W3C trace context to store with what this request causes (events' metadata). */
    traceparent?: string;
  }
}
