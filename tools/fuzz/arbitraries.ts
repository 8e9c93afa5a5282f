import fc from 'fast-check';

/** The part of JSON Schema the apps' TypeBox schemas use (as their OpenAPI documents show). */
export interface JsonSchema {
  readonly type?: string;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly anyOf?: readonly JsonSchema[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly minProperties?: number;
  readonly items?: JsonSchema;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly exclusiveMinimum?: number;
  readonly maximum?: number;
}

/** Ids the fuzzer also uses as aggregate ids, so that commands meet existing streams. */
export const KNOWN_IDS = ['c-1', 'c-2', 'r-1', 'r-2', 'res-1', 'res-2'];
const DATES = [
  '2027-01-01',
  '2027-01-03',
  '2027-01-08',
  '2027-02-28',
  '2027-03-01',
  '2027-02-30',
  '0000-01-01',
  '9999-12-31',
];

/**
 * Strings that have broken something somewhere: query syntaxes (Lucene, Elasticsearch JSON,
 * SQL), script and markup, encodings (lone surrogates, NUL, BOM, RTL override, combining
 * marks, astral characters), numbers in disguise, and sizes just past the usual limits.
 */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '*',
  '?',
  '\\',
  '"',
  "'",
  '/.*/',
  'a~999 AND NOT b^2',
  'name:(a OR',
  '_exists_:email',
  '{"query":{"match_all":{}}}',
  '{"script":{"source":"ctx._source.x = 1"}}',
  '<script>alert(1)</script>',
  '"; DROP TABLE events; --',
  "' OR '1'='1",
  '${jndi:ldap://x}',
  '{{7*7}}',
  '\u0000',
  '\u0000\u0001\u001f\u007f',
  '\ud800',
  'x\udfffy',
  '\ufeff',
  '\u202eevil',
  'e\u0301\u0301\u0301',
  '🏨'.repeat(40),
  'Infinity',
  '-Infinity',
  'NaN',
  '1e400',
  '-0',
  '0x1F',
  '9007199254740993',
  'null',
  'true',
  '[]',
  '{}',
  '%',
  '%FF',
  '%ED%A0%80',
  '../../etc/passwd',
  'a'.repeat(65),
  'a'.repeat(501),
  'a'.repeat(4097),
  ' '.repeat(300),
];

export const hostileString = fc.oneof(
  fc.constantFrom(...HOSTILE_STRINGS),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
);

/** Any JSON-ish value of the wrong kind: types, sizes, nesting, numbers JSON cannot hold. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -1,
    1.5,
    -0.000001,
    2 ** 31,
    2 ** 53,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    [],
    {},
    [[[[[[[[]]]]]]]],
    { __proto__: { polluted: true } },
    { constructor: { prototype: { polluted: true } } },
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 30 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 5 }),
);

function stringFor(schema: JsonSchema): fc.Arbitrary<string> {
  const { pattern, minLength = 0, maxLength = 40 } = schema;
  if (pattern === '^[A-Za-z0-9_-]{1,64}$') {
    return fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...KNOWN_IDS) },
      { weight: 1, arbitrary: fc.stringMatching(new RegExp(pattern)) },
    );
  }
  if (pattern === '^\\d{4}-\\d{2}-\\d{2}$') {
    return fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...DATES) },
      { weight: 1, arbitrary: fc.stringMatching(new RegExp(pattern)) },
    );
  }
  if (pattern) {
    return fc
      .stringMatching(new RegExp(pattern))
      .filter((s) => s.length >= minLength && s.length <= maxLength);
  }
  return fc.string({ minLength, maxLength: Math.min(maxLength, 60), unit: 'grapheme' });
}

/** Values that the schema accepts (mostly: patterns are generated, bounds approximated). */
export function valueFor(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((s) => valueFor(s, depth)));
  switch (schema.type) {
    case 'string':
      return stringFor(schema);
    case 'integer':
      return fc.integer({
        min: Math.max(
          schema.minimum ??
            (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : -1000),
          Number.MIN_SAFE_INTEGER,
        ),
        max: Math.min(schema.maximum ?? 100_000, Number.MAX_SAFE_INTEGER),
      });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return depth > 4
        ? fc.constant([])
        : fc.array(valueFor(schema.items ?? {}, depth + 1), { maxLength: 4 });
    case 'object': {
      const props = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const shape: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, s] of Object.entries(props)) shape[k] = valueFor(s, depth + 1);
      return fc.record(shape, {
        requiredKeys: Object.keys(props).filter((k) => required.has(k)),
      });
    }
    default:
      return hostileValue;
  }
}

/**
 * A schema-valid value, then - one time in three - one place in it replaced by a hostile
 * value, a key added or a required key dropped.
 */
export function mutatedValueFor(schema: JsonSchema): fc.Arbitrary<unknown> {
  return fc
    .tuple(valueFor(schema), fc.nat(9), hostileValue, fc.nat())
    .map(([value, dice, hostile, pick]) => {
      if (dice > 2) return value;
      return mutate(value, hostile, pick, dice);
    });
}

function mutate(value: unknown, hostile: unknown, pick: number, how: number): unknown {
  if (value === null || typeof value !== 'object') return hostile;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value)
    ? [...(value as unknown[])]
    : { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  if (how === 0 || keys.length === 0) {
    (copy as Record<string, unknown>)[`x${pick % 3}`] = hostile;
    return copy;
  }
  const key = keys[pick % keys.length]!;
  if (how === 1) {
    delete (copy as Record<string, unknown>)[key];
    return copy;
  }
  (copy as Record<string, unknown>)[key] = mutate(
    (copy as Record<string, unknown>)[key],
    hostile,
    Math.floor(pick / 7),
    pick % 3,
  );
  return copy;
}
