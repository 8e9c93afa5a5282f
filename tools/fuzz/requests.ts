import fc from 'fast-check';
import {
  HOSTILE_STRINGS,
  hostileString,
  mutatedValueFor,
  valueFor,
  type JsonSchema,
} from './arbitraries';
import type { RawRequest } from './raw-http';

/** One route of an app, as its OpenAPI document describes it. */
export interface Operation {
  readonly app: string;
  readonly method: string;
  readonly path: string;
  readonly params: ReadonlyArray<{
    readonly in: 'path' | 'query' | 'header';
    readonly name: string;
    readonly required: boolean;
    readonly schema: JsonSchema;
  }>;
  readonly body?: JsonSchema;
}

export interface FuzzRequest extends RawRequest {
  readonly app: string;
  /** Which generator made it: requests the schemas and the domain accept, or hostile ones. */
  readonly arm: 'valid' | 'hostile';
  /** `METHOD /route/{template}`: what the statistics group by. */
  readonly route: string;
}

interface OpenApi {
  readonly paths: Record<
    string,
    Record<
      string,
      {
        parameters?: Array<{ in: string; name: string; required?: boolean; schema: JsonSchema }>;
        requestBody?: { content?: Record<string, { schema: JsonSchema }> };
      }
    >
  >;
}

/** Every operation of an app's OpenAPI document (/docs/json). */
export function operationsOf(app: string, doc: OpenApi): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const body = op.requestBody?.content?.['application/json']?.schema;
      ops.push({
        app,
        method: method.toUpperCase(),
        path,
        params: (op.parameters ?? [])
          .filter((p) => p.in === 'path' || p.in === 'query' || p.in === 'header')
          .map((p) => ({
            in: p.in as 'path' | 'query' | 'header',
            name: p.name,
            required: p.required === true,
            schema: p.schema,
          })),
        ...(body ? { body } : {}),
      });
    }
  }
  return ops;
}

/** Percent-encodes the UTF-8 bytes of `s` (a lone surrogate becomes U+FFFD, as a client's would). */
function encode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_.~-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const RAW_TARGET_NOISE = [
  '%',
  '%FF',
  '%ZZ',
  '%ED%A0%80',
  '%00',
  '//',
  '/..',
  '/./',
  '?&&=&',
  '#frag',
  ';x=1',
  'é',
  'x'.repeat(3000),
];
const METHODS = ['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'BREW', 'get', 'G E T'];
const CONTENT_TYPES = [
  'application/json; charset=utf-16',
  'application/json; charset=UTF-8',
  'application/json;charset="utf-8"',
  'application/JSON',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  '',
  'application/json\u0001',
  '*/*',
];
const BAD_CONTENT_LENGTH = ['-1', 'abc', '1, 2', '0x10', '99999999999999999999'];

/** Header values: valid ones, hostile ones, and bytes HTTP forbids (control characters). */
const headerValue = (valid: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 3, arbitrary: valid },
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_STRINGS.filter((s) => s.length < 600)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 30 }) },
  );

/** Raw-body mutations past what JSON.stringify can say. */
function rawBody(json: string, how: number, n: number): Buffer {
  switch (how) {
    case 0:
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json)]);
    case 1: // invalid UTF-8 inside the document
      return Buffer.concat([
        Buffer.from(json.slice(0, -1)),
        Buffer.from([0xff, 0xc0]),
        Buffer.from(json.slice(-1)),
      ]);
    case 2:
      return Buffer.from(json.slice(0, n % Math.max(1, json.length)));
    case 3:
      return Buffer.from(`${'['.repeat(1000 + (n % 20_000))}${']'.repeat(1000 + (n % 20_000))}`);
    case 4:
      return Buffer.from(json.replace(/-?\d+(\.\d+)?/, '1e400'));
    case 5:
      return Buffer.from(json.replace(/}$/, `,"pad":"${'x'.repeat(70_000)}"}`));
    case 6:
      return Buffer.from('');
    case 7:
      return Buffer.from(json.replace(/"[^"]*"/, '"\\ud800"'));
    case 8:
      return Buffer.from(`${json}${json}`);
    default:
      return Buffer.from(json.replace(/^\{/, '{"__proto__":{"x":1},'));
  }
}

/**
 * A hostile request for `op`: valid values mostly, hostile ones in any part sometimes (the
 * valid arm, which reaches the domain, is `validRequestFor` in domain.ts).
 */
export function hostileRequestFor(op: Operation, adminToken: string): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.params.filter((p) => p.in === 'path');
  const queryParams = op.params.filter((p) => p.in === 'query');
  const headerParams = op.params.filter((p) => p.in === 'header');
  const stringOf = (schema: JsonSchema) => valueFor(schema).map((v) => String(v));

  const pathArb = fc
    .tuple(
      fc.tuple(
        ...pathParams.map((p) =>
          fc.oneof(
            { weight: 4, arbitrary: stringOf(p.schema) },
            { weight: 1, arbitrary: hostileString },
          ),
        ),
      ),
      fc.option(fc.tuple(fc.constantFrom(...RAW_TARGET_NOISE), fc.nat()), { freq: 12 }),
    )
    .map(([values, noise]) => {
      let target = op.path;
      pathParams.forEach((p, i) => {
        target = target.replace(`{${p.name}}`, encode(values[i] as string));
      });
      if (noise) {
        const [token, at] = noise;
        const i = at % (target.length + 1);
        target = `${target.slice(0, i)}${token}${target.slice(i)}`;
      }
      return target;
    });

  const queryArb = fc
    .tuple(
      fc.tuple(
        ...queryParams.map((p) =>
          fc.option(
            fc.oneof(
              { weight: 4, arbitrary: stringOf(p.schema) },
              { weight: 1, arbitrary: hostileString },
            ),
            { freq: 2 },
          ),
        ),
      ),
      fc.option(
        fc.constantFrom(
          'bogus=1',
          'size=Infinity',
          'size=1e400',
          'size=-0',
          'q=%FF%',
          '%=%',
          'size=1&size=2',
        ),
        { freq: 8 },
      ),
    )
    .map(([values, extra]) => {
      const parts = queryParams.flatMap((p, i) =>
        values[i] === null ? [] : [`${encode(p.name)}=${encode(values[i] as string)}`],
      );
      if (extra) parts.push(extra);
      return parts.length > 0 ? `?${parts.join('&')}` : '';
    });

  const headersArb = fc
    .tuple(
      fc.tuple(
        ...headerParams.map((p) =>
          fc.option(
            p.name === 'x-consistency-token'
              ? headerValue(
                  fc.constantFrom('customer:c-1@1', 'room:r-1@1', 'room:r-1@999999', 'nope:x@1'),
                )
              : p.name === 'x-consistency-timeout-ms'
                ? fc.constantFrom('0', '1', '150', 'abc', '-1', '99999999999')
                : headerValue(stringOf(p.schema)),
            { freq: 2 },
          ),
        ),
      ),
      fc.option(headerValue(fc.constant(`Bearer ${adminToken}`)), { freq: 2 }),
      fc.option(
        fc.constantFrom(
          ['x-correlation-id', '<script>'],
          ['traceparent', '00-zz-00-01'],
          ['x-request-id', 'a b'],
          ['accept', 'application/xml'],
          ['transfer-encoding', 'gzip'],
          ['expect', '100-continue'],
        ),
        { freq: 6 },
      ),
    )
    .map(([values, auth, extra]) => {
      const headers: Array<[string, string]> = [];
      headerParams.forEach((p, i) => {
        if (values[i] !== null) headers.push([p.name, values[i] as string]);
      });
      // A consistency token waits (default 5 s): bound it so a valid wait cannot pass for a hang.
      if (
        headers.some(([n]) => n === 'x-consistency-token') &&
        !headers.some(([n]) => n === 'x-consistency-timeout-ms')
      ) {
        headers.push(['x-consistency-timeout-ms', '100']);
      }
      if (auth !== null) headers.push(['authorization', auth]);
      if (extra !== null) headers.push([extra[0], extra[1]]);
      return headers;
    });

  const bodyArb: fc.Arbitrary<{ body?: Buffer; contentType?: string; contentLength?: string }> =
    op.body
      ? fc
          .tuple(
            mutatedValueFor(op.body),
            fc.option(fc.tuple(fc.nat(9), fc.nat()), { freq: 5 }),
            fc.option(fc.constantFrom(...CONTENT_TYPES), { freq: 8 }),
            fc.option(fc.constantFrom(...BAD_CONTENT_LENGTH), { freq: 40 }),
          )
          .map(([value, raw, contentType, contentLength]) => {
            const json = JSON.stringify(value) ?? 'null';
            return {
              body: raw ? rawBody(json, raw[0], raw[1]) : Buffer.from(json),
              contentType: contentType ?? 'application/json',
              ...(contentLength !== null ? { contentLength } : {}),
            };
          })
      : fc.constant({});

  return fc
    .tuple(
      pathArb,
      queryArb,
      headersArb,
      bodyArb,
      fc.option(fc.constantFrom(...METHODS), { freq: 25 }),
    )
    .map(([path, query, headers, body, method]) => ({
      app: op.app,
      arm: 'hostile' as const,
      route: `${op.method} ${op.path}`,
      method: method ?? op.method,
      target: `${path}${query}`,
      headers:
        body.contentType !== undefined
          ? [...headers, ['content-type', body.contentType] as const]
          : headers,
      ...(body.body !== undefined ? { body: body.body } : {}),
      ...(body.contentLength !== undefined ? { contentLength: body.contentLength } : {}),
    }));
}
