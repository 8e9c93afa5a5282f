import fc from 'fast-check';
import type { JsonSchema } from './arbitraries';
import type { FuzzRequest, Operation } from './requests';
import { KINDS, ref, TOKEN_REF, VERSION_REF, type Kind } from './world';

/**
 * The valid arm of the fuzzer: requests the schemas accept and the domain can carry out, so
 * that the handlers, the aggregates, the stores and the read models are reached, not only
 * the validators. Walks the route's OpenAPI schema (variants, required and optional fields,
 * enums, integer ranges) and fills each leaf by its format: ids are references to streams
 * earlier commands created (world.ts), a stay is a real date range of 1 to 365 nights,
 * money stays within its bound, emails and names look like emails and names, and the
 * hotels, cities and names come from a small vocabulary so that searches and filters match.
 */

const HOTELS = ['Grand', 'Ritz', 'Hilton Garden', 'Le Bristol'];
const CITIES = ['Paris', 'Lyon', 'Porto', 'Oslo'];
const WORDS = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Lovelace', 'Hopper', 'Turing'];
const ROOM_TYPES = ['single', 'double', 'suite'];
const EVENT_TYPES = [
  'CustomerRegistered',
  'CustomerRenamed',
  'RoomRegistered',
  'ReservationPlaced',
  'ReservationConfirmed',
  'ReservationCancelled',
];
/** The commands that create their stream: sent to a new id, the others to an existing one. */
const CREATES = new Set(['RegisterCustomer', 'RegisterRoom', 'PlaceReservation']);
/** The commands that end a stream's useful life (later placements on it are refused): rarer. */
const ENDS = new Set(['DeactivateCustomer', 'RetireRoom', 'ExpireReservation']);

const ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}$';
const EMAIL_PATTERN = '^[^\\s@]+@[^\\s@.]+(\\.[^\\s@.]+)+$';

const DAY_MS = 86_400_000;
const FIRST_DAY = Date.UTC(2027, 0, 1);
const day = (n: number) => new Date(FIRST_DAY + n * DAY_MS).toISOString().slice(0, 10);

/** A stay: check-in within three years, 1-14 nights mostly, up to the 365 allowed. */
export const stay = fc
  .tuple(
    fc.nat(3 * 365),
    fc.oneof(
      { weight: 9, arbitrary: fc.integer({ min: 1, max: 14 }) },
      { weight: 1, arbitrary: fc.integer({ min: 15, max: 365 }) },
    ),
  )
  .map(([from, nights]) => [day(from), day(from + nights)] as const);

const text = (words: readonly string[], maxLength = 200) =>
  fc
    .tuple(fc.constantFrom(...words), fc.constantFrom(...WORDS), fc.nat(999))
    .map(([a, b, n]) => `${a} ${b} ${n}`.slice(0, maxLength));
const email = fc
  .tuple(fc.constantFrom(...WORDS), fc.nat(99_999), fc.constantFrom('example.com', 'hotel.io'))
  .map(([w, n, domain]) => `${w.toLowerCase()}.${n}@${domain}`);

/** What one request's fields share: one stay (both ends) and the stream kind it is about. */
interface Scene {
  readonly stay: readonly [string, string];
  /** The stream kind the route is about (path), for `aggregateType`, `id`, `streamId`. */
  readonly kind: Kind;
}

/** A value for a field of the domain, by its name; undefined: by its schema instead. */
function byName(name: string, scene: Scene): fc.Arbitrary<unknown> | undefined {
  switch (name) {
    case 'idempotency-key':
      return fc.uuid();
    case 'customerId':
      return fc.nat().map((n) => ref('customer', n));
    case 'roomId':
      return fc.nat().map((n) => ref('room', n));
    case 'aggregateId':
    case 'id':
    case 'streamId':
      return fc.nat().map((n) => ref(scene.kind, n));
    case 'aggregateType':
    case 'streamType':
      return fc.constant(scene.kind);
    case 'checkIn':
    case 'checkInFrom':
      return fc.constant(scene.stay[0]);
    case 'checkOut':
    case 'checkInTo':
      return fc.constant(scene.stay[1]);
    case 'hotel':
      return fc.constantFrom(...HOTELS);
    case 'city':
      return fc.constantFrom(...CITIES);
    case 'roomType':
      return fc.constantFrom(...ROOM_TYPES);
    case 'q':
      return fc.constantFrom(...HOTELS, ...CITIES, ...WORDS);
    case 'type':
      return fc.constantFrom(...EVENT_TYPES);
    case 'guests':
      return fc.integer({ min: 1, max: 2 });
    case 'ratePerNight': // cents; now and then up to the bound (a long stay then passes 2^53: 422)
      return fc.oneof(
        { weight: 19, arbitrary: fc.integer({ min: 1_000, max: 100_000 }) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 10 ** 13 }) },
      );
    default:
      return undefined;
  }
}

/** A value the schema accepts, by format; `name` is the field's (for the domain's fields). */
function validValue(schema: JsonSchema, name: string, scene: Scene): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const named = schema.type === 'object' ? undefined : byName(name, scene);
  if (named) return named;
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((s) => validValue(s, name, scene)));
  switch (schema.type) {
    case 'string': {
      const max = schema.maxLength ?? 200;
      if (schema.pattern === ID_PATTERN) return fc.nat().map((n) => ref('new', n));
      if (schema.pattern === DATE_PATTERN) return fc.constant(scene.stay[0]);
      if (schema.pattern === EMAIL_PATTERN) return email;
      if (schema.pattern === '\\S') return text(name === 'name' ? WORDS : HOTELS, max);
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern));
      return fc.string({
        unit: 'grapheme-ascii',
        minLength: schema.minLength ?? 0,
        maxLength: Math.min(max, 40),
      });
    }
    case 'integer': {
      // Small numbers near the least allowed: counts and sizes, not limits.
      const min =
        schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 0);
      return fc.integer({ min, max: Math.min(schema.maximum ?? min + 20, min + 20) });
    }
    case 'boolean':
      return fc.boolean();
    case 'object': {
      const props = Object.entries(schema.properties ?? {});
      const required = new Set(schema.required ?? []);
      // minProperties (e.g. "email, phone or both"): every property, then.
      const all = (schema.minProperties ?? 0) > 0;
      return fc.record(Object.fromEntries(props.map(([k, s]) => [k, validValue(s, k, scene)])), {
        requiredKeys: props.map(([k]) => k).filter((k) => all || required.has(k)),
      });
    }
    default:
      return fc.constant(null);
  }
}

/** The kind a route is about: from its path (`/commands/room/...`, `/customers/{id}`). */
const kindOf = (path: string): Kind | undefined =>
  KINDS.find((k) => path.startsWith(`/commands/${k}/`) || path.startsWith(`/${k}s`));

/** A body variant with the id it goes to: a creating command to a new id, the rest to existing ones. */
function commandArb(op: Operation, kind: Kind, scene: Scene) {
  const variants = op.body?.anyOf ?? (op.body ? [op.body] : []);
  return fc.oneof(
    ...variants.map((variant) => {
      const command = variant.properties?.type?.enum?.[0];
      const creates = typeof command === 'string' && CREATES.has(command);
      const id = fc.nat().map((n) => ref(creates ? 'new' : kind, n));
      return {
        weight: creates ? 4 : typeof command === 'string' && ENDS.has(command) ? 1 : 3,
        arbitrary: fc.tuple(id, validValue(variant, '', scene)),
      };
    }),
  );
}

/**
 * How often the valid arm picks a route: the commands most (each one grows the world the
 * others work on), the reads next, the admin routes, /health and the catch-all command route
 * (it only answers unknown aggregate types) least. Never the dead-letter routes that take a
 * message id: no dead letter exists unless one is made, so a valid request there is a
 * lookup that misses - and a miss takes a second (the lookup looks again before its 404);
 * the hostile arm sends them ids enough.
 */
export function validWeight(op: Operation): number {
  if (op.path.startsWith('/admin/dead-letters/{')) return 0;
  if (op.path.startsWith('/commands/')) return op.body?.anyOf ? 16 : 1;
  if (op.path.startsWith('/admin/') || op.path === '/health') return 1;
  return 8;
}

/**
 * A valid request for `op`: every required parameter, optional ones half the time, a real
 * If-Match now and then (the stream's version when sent), a consistency token of a recent
 * command on the reads.
 */
export function validRequestFor(op: Operation, adminToken: string): fc.Arbitrary<FuzzRequest> {
  const fixed = kindOf(op.path);
  const sceneArb = fc.record({
    stay,
    kind: fixed ? fc.constant(fixed) : fc.constantFrom(...KINDS),
  });
  return sceneArb.chain((scene) => {
    const param = (p: Operation['params'][number]) => validValue(p.schema, p.name, scene);
    const path = op.params.filter((p) => p.in === 'path');
    // Only a cursor a list answered is valid: the hostile arm sends the others.
    const query = op.params.filter((p) => p.in === 'query' && p.name !== 'cursor');
    const headers = op.params.filter(
      (p) => p.in === 'header' && p.name !== 'x-consistency-timeout-ms',
    );
    // A command route: the body's command decides which id the path names.
    const commandKind = op.body?.anyOf && kindOf(op.path);
    const bodyArb: fc.Arbitrary<readonly [string | undefined, unknown]> = commandKind
      ? commandArb(op, commandKind, scene)
      : op.body
        ? validValue(op.body, '', scene).map((b) => [undefined, b] as const)
        : fc.constant([undefined, undefined] as const);
    return fc
      .tuple(
        fc.tuple(...path.map(param)),
        fc.tuple(...query.map((p) => (p.required ? param(p) : fc.option(param(p), { freq: 2 })))),
        fc.tuple(
          ...headers.map((p) =>
            fc.option(
              p.name === 'if-match'
                ? fc.constant(`"${VERSION_REF}"`)
                : p.name === 'x-consistency-token'
                  ? fc.constant(TOKEN_REF)
                  : param(p),
              { freq: 3 },
            ),
          ),
        ),
        bodyArb,
      )
      .map(([pathValues, queryValues, headerValues, [commandId, body]]) => {
        let target = op.path;
        path.forEach((p, i) => {
          const value = p.name === 'aggregateId' && commandId ? commandId : String(pathValues[i]);
          target = target.replace(`{${p.name}}`, encodeURIComponent(value));
        });
        const qs = query.flatMap((p, i) =>
          queryValues[i] === null
            ? []
            : [`${p.name}=${encodeURIComponent(String(queryValues[i]))}`],
        );
        const sent: Array<readonly [string, string]> = headers.flatMap((p, i) =>
          headerValues[i] === null ? [] : [[p.name, String(headerValues[i])] as const],
        );
        // A consistency wait is bounded, so that a slow projection cannot pass for a hang.
        if (sent.some(([n]) => n === 'x-consistency-token')) {
          sent.push(['x-consistency-timeout-ms', '1000']);
        }
        sent.push(['authorization', `Bearer ${adminToken}`]);
        if (body !== undefined) sent.push(['content-type', 'application/json']);
        return {
          app: op.app,
          arm: 'valid' as const,
          route: `${op.method} ${op.path}`,
          method: op.method,
          target: qs.length > 0 ? `${target}?${qs.join('&')}` : target,
          headers: sent,
          ...(body !== undefined ? { body: Buffer.from(JSON.stringify(body)) } : {}),
        };
      });
  });
}
