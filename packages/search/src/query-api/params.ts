import { ValidationError } from '@cqrs/core';
import { Type, type TSchema } from '@sinclair/typebox';

/** Request parameters the query routes share: ids, paging, free text, days. */

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
