import {
  handleCommand,
  type AggregateRegistry,
  type AnyAggregateDefinition,
  type CommandHandling,
  type HandledCommand,
} from '@cqrs/aggregates';
import type { EventMetadata } from '@cqrs/core';
import { requireBearer } from '@cqrs/http';
import {
  TypeBoxValidatorCompiler,
  type FastifyPluginAsyncTypebox,
} from '@fastify/type-provider-typebox';
import { Type, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type {
  FastifyReply,
  FastifyRequest,
  FastifySchemaCompiler,
  FastifySchemaValidationError,
} from 'fastify';
import {
  AggregateParams,
  CommandAccepted,
  CommandBody,
  CommandHeaders,
  problems,
} from '../schemas';

export interface CommandRoutesOptions {
  readonly handling: CommandHandling;
  readonly aggregates: AggregateRegistry;
  readonly apiToken?: string;
}

/**
 * `POST /commands/{aggregateType}/{aggregateId}`. One route per aggregate type, so the
 * OpenAPI document lists each type's commands with their payload schemas; a catch-all for
 * unknown types answers 404. Fastify checks the envelope `{ type, data }`; the runtime checks
 * `data` against the command's own schema - the very schema the document shows - so an
 * unknown command is a 404 before any payload rule applies.
 */
export const commandRoutes: FastifyPluginAsyncTypebox<CommandRoutesOptions> = async (app, opts) => {
  // TypeBox checks without coercion: `"type": 123` is a 400, not the command "123".
  app.setValidatorCompiler(envelopeValidator);
  // No hook at all without a token: each one costs every request something.
  if (opts.apiToken) app.addHook('onRequest', requireBearer(opts.apiToken));
  app.addHook('preValidation', requireJson);

  // Runs after validation, so the casts below hold.
  const handle = async (request: FastifyRequest, reply: FastifyReply, aggregateType: string) => {
    const { aggregateId } = request.params as { aggregateId: string };
    const body = request.body as CommandBody;
    const headers = request.headers as CommandHeaders;
    const ifMatch = headers['if-match'];
    const idempotencyKey = headers['idempotency-key'];
    const handled = await handleCommand(opts.handling, {
      aggregateType,
      aggregateId,
      command: { type: body.type, data: body.data ?? {} },
      ...(ifMatch !== undefined ? { expectedVersion: Number(ifMatch.slice(1, -1)) } : {}),
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
      metadata: metadataOf(request, idempotencyKey),
    });
    if (handled.replayed) void reply.header('idempotent-replayed', 'true');
    return reply
      .status(handled.created ? 201 : 200)
      .header('etag', `"${handled.result.version}"`)
      .send(accepted(handled));
  };

  for (const definition of opts.aggregates.values()) {
    app.post(
      `/commands/${definition.type}/:aggregateId`,
      {
        schema: {
          tags: ['commands'],
          summary: `Send a command to a ${definition.type}`,
          params: Type.Object({ aggregateId: AggregateParams.properties.aggregateId }),
          headers: CommandHeaders,
          body: documentedBody(definition),
          response: {
            200: CommandAccepted,
            201: CommandAccepted,
            ...problems(400, 401, 404, 409, 413, 415, 422, 503),
          },
        },
      },
      (request, reply) => handle(request, reply, definition.type),
    );
  }

  app.post(
    '/commands/:aggregateType/:aggregateId',
    {
      schema: {
        tags: ['commands'],
        summary: 'Any other aggregate type: 404',
        params: AggregateParams,
        headers: CommandHeaders,
        body: CommandBody,
        response: { ...problems(400, 401, 404, 413, 415) },
      },
    },
    (request, reply) => handle(request, reply, request.params.aggregateType),
  );
};

/**
 * The body as the document shows it: one `{ type, data }` variant per command of the
 * aggregate, with the command's payload schema.
 */
function documentedBody(definition: AnyAggregateDefinition): TSchema {
  const variants = [...definition.commands.values()].map((c) => {
    const required = (c.schema as { required?: readonly string[] }).required ?? [];
    return Type.Object(
      {
        type: Type.Literal(c.type),
        data: required.length > 0 ? c.schema : Type.Optional(c.schema),
      },
      { title: c.type, additionalProperties: false },
    );
  });
  return Type.Union(variants, { [ENVELOPE_ONLY]: true });
}

/** The response body: what was appended, and the token a query may wait for. */
function accepted({ result, consistencyToken }: HandledCommand): CommandAccepted {
  return {
    aggregateType: result.streamType,
    aggregateId: result.streamId,
    version: result.version,
    position: result.position,
    events: result.events.map((e) => ({ type: e.type, version: e.version })),
    consistencyToken,
  };
}

/** Marks a body schema that is documentation: validation checks the envelope only. */
const ENVELOPE_ONLY = 'x-validate-envelope-only';
const envelopeCheck = TypeBoxValidatorCompiler({
  schema: CommandBody,
  httpPart: 'body',
  method: 'POST',
  url: '/commands',
});

const envelopeValidator: FastifySchemaCompiler<TSchema> = (route) => {
  if (route.httpPart === 'body') {
    return (route.schema as Record<string, unknown>)[ENVELOPE_ONLY] === true
      ? envelopeCheck
      : TypeBoxValidatorCompiler(route);
  }
  return onlyStrings(route.schema) ? checkOnly(route.schema) : TypeBoxValidatorCompiler(route);
};

/**
 * These routes' params and headers are strings only: a compiled check, nothing converted and
 * nothing replaced. The provider's compiler runs TypeBox's Value.Convert (an interpreted walk)
 * on every non-body part first, and hands Fastify the result, which Fastify then keeps beside
 * the raw headers - every later read of `request.headers` copied all of them.
 */
function checkOnly(schema: TSchema): ReturnType<FastifySchemaCompiler<TSchema>> {
  const check = TypeCompiler.Compile(schema);
  return (value: unknown) => {
    if (check.Check(value)) return true;
    // The provider's error shape: what the shared error handler reads.
    const error = [...check.Errors(value)].map((e) => ({
      message: e.message,
      instancePath: e.path,
    }));
    return { error: error as unknown as FastifySchemaValidationError[] };
  };
}

function onlyStrings(schema: TSchema): boolean {
  const properties = (schema as { properties?: Record<string, TSchema> }).properties;
  return (
    schema.type === 'object' &&
    properties !== undefined &&
    Object.values(properties).every((p) => p.type === 'string')
  );
}

/** 415 for anything but JSON - also for a body-less POST, which names no media type. */
function requireJson(
  request: FastifyRequest,
  _reply: FastifyReply,
  done: (err?: Error) => void,
): void {
  const mediaType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType === 'application/json') {
    done();
    return;
  }
  const got = mediaType ? JSON.stringify(mediaType.slice(0, 100)) : 'no Content-Type';
  // The shared error handler turns a 4xx statusCode + code into problem+json.
  done(
    Object.assign(new Error(`Commands must be sent as application/json (got ${got})`), {
      statusCode: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    }),
  );
}

const TRACESTATE = /^[\x20-\x7e]{1,512}$/;

/**
 * What every event of this command records about its origin. `request.traceparent` is the
 * request's trace context as @cqrs/http parsed it (the caller's, or our server span's), so a
 * malformed header is never stored or published.
 */
function metadataOf(request: FastifyRequest, idempotencyKey: string | undefined): EventMetadata {
  const { traceparent } = request;
  const tracestate = request.headers.tracestate;
  return {
    correlationId: request.correlationId,
    causationId: request.id,
    ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    ...(traceparent ? { traceparent } : {}),
    ...(traceparent && typeof tracestate === 'string' && TRACESTATE.test(tracestate)
      ? { tracestate }
      : {}),
  };
}
