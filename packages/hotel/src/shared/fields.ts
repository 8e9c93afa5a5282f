import type { FieldProblem } from '@cqrs/core';
import { Type } from '@sinclair/typebox';

/**
 * Field schemas shared by the hotel's commands. Patterns rather than `format`s: they mean
 * the same to TypeBox (here) and to Ajv (the HTTP layer's OpenAPI validation), with no
 * format registry to configure. `description` is what a failed pattern reports.
 */

const NOT_BLANK = '\\S';

export const PersonName = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: NOT_BLANK,
  description: 'a name that is not blank',
});

export const Email = Type.String({
  maxLength: 254,
  pattern: '^[^\\s@]+@[^\\s@.]+(\\.[^\\s@.]+)+$',
  description: 'a valid email address',
});

export const Phone = Type.String({
  minLength: 1,
  maxLength: 50,
  pattern: NOT_BLANK,
  description: 'a phone number that is not blank',
});

export const Label = (maxLength: number, what: string) =>
  Type.String({
    minLength: 1,
    maxLength,
    pattern: NOT_BLANK,
    description: `${what} that is not blank`,
  });

export const Reason = Type.String({ maxLength: 500 });

/** Client-chosen aggregate ids, as in the command URL. */
export const AggregateId = Type.String({
  pattern: '^[A-Za-z0-9_-]{1,64}$',
  description: '1-64 characters of A-Z, a-z, 0-9, "_" or "-"',
});

export const IsoDate = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}$',
  description: 'a date as YYYY-MM-DD',
});

/**
 * The highest nightly rate, in minor units (cents): 10^13. A stay is at most 365 nights, so a
 * total price (nights x rate, at most 3.65 x 10^15) always stays an exact integer below
 * Number.MAX_SAFE_INTEGER (~9 x 10^15) - in JavaScript, in MySQL's JSON and in Elasticsearch.
 */
export const MAX_RATE_PER_NIGHT = 10_000_000_000_000;

/** A nightly rate in minor units (cents), 1..MAX_RATE_PER_NIGHT. */
export const RatePerNight = Type.Integer({ exclusiveMinimum: 0, maximum: MAX_RATE_PER_NIGHT });

/** Whether a `YYYY-MM-DD` string names a real calendar day (no 2030-02-30). */
export function isCalendarDate(date: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day); // setUTCFullYear: no 1900 offset for years < 100
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/** Whole days from one `YYYY-MM-DD` to another. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

export function dateProblems(fields: Readonly<Record<string, string>>): FieldProblem[] {
  return Object.entries(fields)
    .filter(([, value]) => !isCalendarDate(value))
    .map(([name]) => ({ path: `data/${name}`, message: 'is not a calendar date' }));
}
