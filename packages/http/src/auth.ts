import { ForbiddenError, UnauthorizedError } from '@cqrs/core';
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

function matches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function bearer(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer\s+(.+)$/i.exec(h) : null;
  return m?.[1]?.trim();
}

/** preHandler: when `token` is set, requires `Authorization: Bearer <token>` (else 401). */
export function requireBearer(token: string | undefined) {
  return async (request: FastifyRequest): Promise<void> => {
    if (!token) return;
    const given = bearer(request);
    if (!given || !matches(given, token))
      throw new UnauthorizedError('Missing or invalid bearer token');
  };
}

/** preHandler for `/admin/*`: 403 when no admin token is configured, 401 when it does not match. */
export function requireAdmin(token: string | undefined) {
  return async (request: FastifyRequest): Promise<void> => {
    if (!token)
      throw new ForbiddenError('Admin endpoints are disabled: set ADMIN_TOKEN to enable them');
    const given = bearer(request);
    if (!given || !matches(given, token))
      throw new UnauthorizedError('Missing or invalid admin bearer token');
  };
}
