import { ValidationError, type EventEnvelope } from '@cqrs/core';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/** The message body of docs/api.md "Event messages", validated at the edge of the projector. */
export const EventMessageBody = Type.Object({
  eventId: Type.String({ minLength: 1, maxLength: 64 }),
  streamType: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]{0,63}$' }),
  streamId: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
  version: Type.Integer({ minimum: 1 }),
  position: Type.Union([Type.String({ pattern: '^[0-9]{1,20}$' }), Type.Integer({ minimum: 0 })]),
  type: Type.String({ minLength: 1, maxLength: 128 }),
  schemaVersion: Type.Integer({ minimum: 1 }),
  occurredAt: Type.String({
    pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z$',
  }),
  data: Type.Record(Type.String(), Type.Unknown()),
  metadata: Type.Record(Type.String(), Type.Unknown()),
});
export type EventMessageBody = Static<typeof EventMessageBody>;

const check = TypeCompiler.Compile(EventMessageBody);

/** Parses a message body into an envelope; a ValidationError (dead-lettered at once) otherwise. */
export function parseEventMessage(content: Buffer): EventEnvelope {
  let body: unknown;
  try {
    body = JSON.parse(content.toString('utf8'));
  } catch {
    throw new ValidationError('message body is not JSON');
  }
  if (!check.Check(body)) {
    const problems = [...check.Errors(body)].slice(0, 5).map((e) => ({
      path: e.path || '/',
      message: e.message,
    }));
    throw new ValidationError(
      `not an event message: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
      problems,
    );
  }
  return { ...body, position: String(body.position) };
}
