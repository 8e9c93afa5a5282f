import {
  TimeoutError,
  ValidationError,
  parseConsistencyToken,
  type StreamVersion,
} from '@cqrs/core';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { describeTokens } from '../consistency';
import type { QueryContext } from './context';

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

const DEFAULT_WAIT_MS = 5000;
const MAX_WAIT_MS = 30_000;

/**
 * preHandler of every read route: with `X-Consistency-Token`, answer only once the read
 * models reflect every named stream at least at its version (or 504 naming the others).
 */
export function consistencyGate(ctx: QueryContext) {
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
