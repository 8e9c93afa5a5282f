import { ValidationError, type FieldProblem } from '@cqrs/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { firstIllFormedValue } from './well-formed';

/**
 * The one JSON body parser of every app. What JSON.parse alone lets through reaches MariaDB
 * or Elasticsearch and fails there as a 500, so it is refused here, before any handler:
 * - a charset other than UTF-8 (RFC 8259 allows no other for JSON on the wire): 415;
 * - a leading byte-order mark (RFC 8259 8.1: senders MUST NOT add one; we refuse it rather
 *   than guess what else the client got wrong): 400;
 * - bytes that are not UTF-8 (a decoder would silently turn them into U+FFFD): 400;
 * - a string - value or key - that is not well-formed Unicode, e.g. a lone surrogate written
 *   as the escape `\ud800`, which MariaDB's JSON rejects, or a number too large to be finite
 *   (`1e400`): 400 naming the field.
 * Parsing itself is Fastify's (prototype-poisoning protection included).
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer' },
    (request: FastifyRequest, body: Buffer, done: (err: Error | null, value?: unknown) => void) => {
      const charset = charsetOf(request.headers['content-type']);
      if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
        done(new UnsupportedCharsetError(charset));
        return;
      }
      if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) {
        done(bodyProblem('starts with a byte-order mark; send UTF-8 JSON without one'));
        return;
      }
      let text: string;
      try {
        text = utf8.decode(body);
      } catch {
        done(bodyProblem('is not valid UTF-8'));
        return;
      }
      parseJson(request, text, (err, value) => {
        if (err) {
          done(err);
          return;
        }
        const problem = firstIllFormedValue(value, 'body');
        done(
          problem ? new ValidationError(`${problem.path} ${problem.message}`, [problem]) : null,
          value,
        );
      });
    },
  );
}

/** Fastify maps an error's 4xx `statusCode` and `code` to the problem (see toProblem). */
export class UnsupportedCharsetError extends Error {
  readonly statusCode = 415;
  readonly code = 'unsupported-charset';
  constructor(charset: string) {
    super(`charset=${charset} is not supported: JSON bodies must be UTF-8`);
  }
}

function bodyProblem(what: string): ValidationError {
  const problem: FieldProblem = { path: 'body', message: what };
  return new ValidationError(`body ${what}`, [problem]);
}

function charsetOf(contentType: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType ?? '');
  return m ? m[1]!.toLowerCase() : undefined;
}
