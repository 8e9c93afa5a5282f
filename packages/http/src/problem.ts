import { AppError, IdempotencyConflictError } from '@cqrs/core';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** RFC 9457 problem details. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance?: string;
  readonly [extension: string]: unknown;
}

const STATUS_BY_CODE: Record<string, number> = {
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  'concurrency-conflict': 409,
  rejected: 422,
  'dependency-unavailable': 503,
  timeout: 504,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

function problemType(code: string): string {
  return `https://cqrs-platform.dev/problems/${code}`;
}

export function problem(
  status: number,
  code: string,
  detail: string,
  extensions: Record<string, unknown> = {},
): Problem {
  return {
    type: problemType(code),
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    ...extensions,
  };
}

/** Maps any error to a problem: our hierarchy by code, Fastify's 4xx by status, else 500. */
export function toProblem(error: unknown): Problem {
  if (error instanceof AppError) {
    const status =
      error instanceof IdempotencyConflictError
        ? error.kind === 'mismatch'
          ? 422
          : 409
        : (STATUS_BY_CODE[error.code] ?? 500);
    return problem(status, error.code, error.message, { ...error.extensions });
  }
  const fe = error as Partial<FastifyError>;
  if (fe.validation) {
    const errors = fe.validation.map((v) => ({
      path: `${fe.validationContext ?? 'body'}${v.instancePath || ''}${
        (v.params as { missingProperty?: string } | undefined)?.missingProperty
          ? `/${(v.params as { missingProperty: string }).missingProperty}`
          : ''
      }`,
      message: v.message ?? 'is invalid',
    }));
    return problem(400, 'validation', errors.map((e) => `${e.path} ${e.message}`).join('; '), {
      errors,
    });
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code = (fe.code ?? 'bad-request')
      .toLowerCase()
      .replace(/^fst_err_/, '')
      .replace(/_/g, '-');
    return problem(fe.statusCode, code, fe.message ?? 'Bad request');
  }
  return problem(500, 'internal', 'An unexpected error occurred; it has been logged.');
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.status(p.status).type(PROBLEM_CONTENT_TYPE).send(p);
}

export function errorHandler(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const p = toProblem(error);
  if (p.status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ status: p.status, detail: p.detail }, 'request refused');
  return sendProblem(reply, { ...p, instance: request.url });
}
