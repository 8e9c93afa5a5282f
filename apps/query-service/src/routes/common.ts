import {
  TimeoutError,
  ValidationError,
  parseConsistencyToken,
  type StreamVersion,
} from '@cqrs/core';
import type { ConsistencyTracker, IndexNames } from '@cqrs/search';
import { describeTokens } from '@cqrs/search';
import { Type, type TSchema } from '@sinclair/typebox';
import type { Client } from '@elastic/elasticsearch';
import type { FastifyRequest } from 'fastify';

/** What the read routes share. */
export interface ReadContext {
  readonly client: Client;
  readonly names: IndexNames;
  readonly tracker: ConsistencyTracker;
  /** Stream types a consistency token may name (those the read models reflect). */
  readonly streamTypes: readonly string[];
}

export const Id = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'aggregate id' });
export const IdParams = Type.Object({ id: Id });
export const Size = Type.Integer({ minimum: 1, maximum: 100, default: 20 });
export const Cursor = Type.String({
  minLength: 1,
  maxLength: 2048,
  description: 'nextCursor of the previous page',
});
export const FreeText = Type.String({ maxLength: 500, description: 'free text (no query syntax)' });
export const Keyword = Type.String({ minLength: 1, maxLength: 256 });
export const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' });
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
  },
  { additionalProperties: true },
);
export const errorResponses = { 400: Problem, 404: Problem, 503: Problem, 504: Problem };

export const ConsistencyHeaders = Type.Object(
  {
    'x-consistency-token': Type.Optional(
      Type.String({
        maxLength: 4096,
        description: 'tokens from command responses, comma-separated',
      }),
    ),
    'x-consistency-timeout-ms': Type.Optional(
      Type.String({
        pattern: '^\\d{1,9}$',
        description: 'wait at most this long (default 5000, max 30000)',
      }),
    ),
  },
  { additionalProperties: true },
);

/** A real calendar day, or a 400. */
export function checkDay(value: string | undefined, field: string): void {
  if (value === undefined) return;
  const d = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) {
    throw new ValidationError(`${field} is not a valid date`, [
      { path: `querystring/${field}`, message: 'must be a real date YYYY-MM-DD' },
    ]);
  }
}

export const DEFAULT_WAIT_MS = 5000;
export const MAX_WAIT_MS = 30_000;

/**
 * preHandler of every read route: with `X-Consistency-Token`, answer only once the read
 * models reflect every named stream at least at its version (or 504 naming the others).
 */
export function consistencyGate(ctx: ReadContext) {
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers['x-consistency-token'];
    if (header === undefined) return;
    const raw = (Array.isArray(header) ? header.join(',') : header)
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t.length > 0);
    if (raw.length === 0) return;
    if (raw.length > 50) throw new ValidationError('At most 50 consistency tokens per request');
    const tokens: StreamVersion[] = [];
    for (const t of raw) {
      const parsed = parseConsistencyToken(t);
      if (!parsed || !ctx.streamTypes.includes(parsed.streamType)) {
        throw new ValidationError(`Malformed consistency token "${t.slice(0, 100)}"`, [
          {
            path: 'headers/x-consistency-token',
            message: `expected <${ctx.streamTypes.join('|')}>:<id>@<version>`,
          },
        ]);
      }
      tokens.push(parsed);
    }
    const timeoutHeader = request.headers['x-consistency-timeout-ms'];
    let timeoutMs = DEFAULT_WAIT_MS;
    if (timeoutHeader !== undefined) {
      const value = Array.isArray(timeoutHeader) ? timeoutHeader[0] : timeoutHeader;
      if (!value || !/^\d{1,9}$/.test(value)) {
        throw new ValidationError(
          'X-Consistency-Timeout-Ms must be a whole number of milliseconds',
        );
      }
      timeoutMs = Math.min(MAX_WAIT_MS, Number(value));
    }
    const missing = await ctx.tracker.waitFor(tokens, timeoutMs);
    if (missing.length > 0) {
      const names = describeTokens(missing);
      throw new TimeoutError(
        `The read models did not reach ${names.join(', ')} within ${timeoutMs} ms`,
        { tokens: names, timeoutMs },
      );
    }
  };
}
