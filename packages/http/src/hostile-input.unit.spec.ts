import { Type } from '@sinclair/typebox';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import pino from 'pino';
import { createHttpServer, type HttpServer } from './index';

/**
 * Every input the parsers below Fastify's handlers would refuse or pass on broken - bytes,
 * encodings, numbers, URLs, HTTP syntax - answers a 4xx problem+json naming what is wrong,
 * and never reaches a handler (nothing is written).
 */
describe('hostile input', () => {
  let app: HttpServer;
  let port: number;
  let handled = 0;
  beforeAll(async () => {
    app = await createHttpServer({ name: 'test', logger: pino({ level: 'silent' }) });
    app.post(
      '/things/:id',
      {
        schema: {
          params: Type.Object({ id: Type.String() }),
          querystring: Type.Object({
            size: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
            q: Type.Optional(Type.String()),
          }),
          body: Type.Object({
            name: Type.Optional(Type.String()),
            n: Type.Optional(Type.Integer()),
            data: Type.Optional(Type.Object({}, { additionalProperties: true })),
          }),
        },
      },
      async (request) => {
        handled++;
        return { query: request.query, body: request.body };
      },
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  /** One raw HTTP/1.1 exchange: what a client that is not Node's would send. */
  const raw = (request: string | Buffer) =>
    new Promise<{ status: number; contentType: string; body: Record<string, unknown> }>(
      (resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(request));
        const chunks: Buffer[] = [];
        socket.on('data', (c) => chunks.push(c));
        socket.on('error', reject);
        socket.on('close', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const [head = '', ...rest] = text.split('\r\n\r\n');
          resolve({
            status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]),
            contentType: /^content-type:\s*(.*)$/im.exec(head)?.[1] ?? '',
            body: JSON.parse(rest.join('\r\n\r\n')) as Record<string, unknown>,
          });
        });
        setTimeout(() => socket.destroy(new Error('no answer within 5 s')), 5000).unref();
      },
    );
  const post = (
    path: string,
    body: string | Buffer,
    contentType = 'application/json',
    extraHeaders = '',
  ) => {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    return raw(
      Buffer.concat([
        Buffer.from(
          `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${contentType}\r\n` +
            `Content-Length: ${bytes.length}\r\nConnection: close\r\n${extraHeaders}\r\n`,
          'latin1',
        ),
        bytes,
      ]),
    );
  };

  const expectProblem = async (
    res: Promise<{ status: number; contentType: string; body: Record<string, unknown> }>,
    status: number,
    detail: RegExp,
  ) => {
    const before = handled;
    const { status: got, contentType, body } = await res;
    expect({ status: got, detail: body.detail }).toEqual({
      status,
      detail: expect.stringMatching(detail),
    });
    expect(contentType).toMatch(/^application\/problem\+json/);
    expect(body).toMatchObject({ status, type: expect.any(String), title: expect.any(String) });
    expect(handled).toBe(before);
  };

  it('accepts a well-formed request (the baseline the cases below differ from)', async () => {
    const res = await post('/things/a?size=5', '{"name":"Zoë 🏨","n":1}');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ query: { size: 5 }, body: { name: 'Zoë 🏨', n: 1 } });
  });

  describe('strings that are not Unicode', () => {
    it('refuses a lone surrogate in a string value, naming the field', () =>
      expectProblem(
        post('/things/a', '{"name":"\\ud800"}'),
        400,
        /^body\/name is not well-formed Unicode/,
      ));
    it('refuses a lone surrogate deep inside, naming the path', () =>
      expectProblem(
        post('/things/a', '{"data":{"list":["ok","x\\udfff"]}}'),
        400,
        /^body\/data\/list\/1 /,
      ));
    it('refuses a lone surrogate in a key', () =>
      expectProblem(post('/things/a', '{"data":{"\\ud83d":1}}'), 400, /^body\/data\/\uFFFD /));
    it('refuses bytes that are not UTF-8', () =>
      expectProblem(
        post('/things/a', Buffer.from([...Buffer.from('{"name":"'), 0xff, 0xfe, 0x22, 0x7d])),
        400,
        /not valid UTF-8/,
      ));
    it('refuses a body that starts with a byte-order mark', () =>
      expectProblem(post('/things/a', '\ufeff{"name":"a"}'), 400, /byte-order mark/));
  });

  describe('charsets', () => {
    it.each(['utf-16', 'UTF-16LE', 'iso-8859-1', '"latin1"'])('charset=%s is a 415', (cs) =>
      expectProblem(
        post('/things/a', '{"name":"a"}', `application/json; charset=${cs}`),
        415,
        /must be UTF-8/,
      ),
    );
    it('accepts charset=utf-8 in any case', async () => {
      expect((await post('/things/a', '{}', 'application/json; charset=UTF-8')).status).toBe(200);
    });
  });

  describe('numbers that are not finite', () => {
    it.each(['Infinity', '-Infinity', '1e400'])('?size=%s is a 400 naming it', (v) =>
      expectProblem(post(`/things/a?size=${v}`, '{}'), 400, /querystring\/size/),
    );
    it('?size=NaN and ?size=1.5 are 400s', async () => {
      await expectProblem(post('/things/a?size=NaN', '{}'), 400, /querystring\/size/);
      await expectProblem(post('/things/a?size=1.5', '{}'), 400, /querystring\/size/);
    });
    it('a JSON number too large to be finite is a 400 naming the field', () =>
      expectProblem(post('/things/a', '{"n":1e400}'), 400, /^body\/n must be a finite number/));
    it('a non-integer where an integer is required is a 400', () =>
      expectProblem(post('/things/a', '{"n":1.5}'), 400, /body\/n must be integer/));
  });

  describe('URLs the router cannot decode', () => {
    it.each(['/things/%FF', '/things/%', '/things/%E0%A4%A', '/things/%ED%A0%80'])(
      '%s is a problem+json 400',
      (path) => expectProblem(post(path, '{}'), 400, /not a valid url/),
    );
    it('a query string with broken percent-encoding is taken literally', async () => {
      const res = await post('/things/a?q=%FF%', '{}');
      expect(res.status).toBe(200);
      expect(res.body.query).toEqual({ q: '%FF%' });
    });
  });

  describe('requests Node’s HTTP parser refuses', () => {
    it.each([
      ['a control character in a header', 'If-Match: "1\u0001"\r\n'],
      ['a control character in Idempotency-Key', 'Idempotency-Key: a\u0007b\r\n'],
    ])('%s is a problem+json 400', (_name, header) =>
      expectProblem(post('/things/a', '{}', 'application/json', header), 400, /not valid HTTP/),
    );
    it('a control character in Content-Type is a problem+json 400', () =>
      expectProblem(post('/things/a', '{}', 'application/\u0002json'), 400, /not valid HTTP/));
    it('an unknown method is a problem+json 400', () =>
      expectProblem(raw('BREW /things/a HTTP/1.1\r\nHost: x\r\n\r\n'), 400, /not valid HTTP/));
    it('Content-Length: -1 is a problem+json 400', () =>
      expectProblem(
        raw('POST /things/a HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n'),
        400,
        /not valid HTTP/,
      ));
    it('answers once when the bytes after an answered request fail to parse', () =>
      expectProblem(
        raw('POST /things/%FF HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n'),
        400,
        /not a valid url/,
      ));
    it('a request line that is not HTTP is a problem+json 400', () =>
      expectProblem(raw('hello\r\n\r\n'), 400, /not valid HTTP/));
  });
});
