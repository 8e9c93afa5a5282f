import { DomainRejectionError, IdempotencyConflictError } from '@cqrs/core';
import { Type } from '@sinclair/typebox';
import pino from 'pino';
import { createHttpServer, type HttpServer } from './index';

const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('createHttpServer', () => {
  let app: HttpServer;
  let healthy = true;
  beforeAll(async () => {
    app = await createHttpServer({
      name: 'test',
      logger: pino({ level: 'silent' }),
      bodyLimit: 1024,
      healthChecks: {
        db: async () => (healthy ? undefined : Promise.reject(new Error('db down'))),
      },
    });
    app.post(
      '/things/:id',
      {
        schema: {
          params: Type.Object({ id: Type.String({ pattern: '^[a-z]+$' }) }),
          body: Type.Object({ n: Type.Integer() }),
        },
      },
      async (request) => ({ ok: true, traceparent: request.traceparent ?? null }),
    );
    app.post('/rejected', async () => {
      throw new DomainRejectionError('not allowed', 'cancelled', 'lifecycle');
    });
    app.post('/in-flight', async () => {
      throw new IdempotencyConflictError('in-flight', 'k');
    });
    app.post('/mismatch', async () => {
      throw new IdempotencyConflictError('mismatch', 'k');
    });
    app.post('/boom', async () => {
      throw new Error('secret internals');
    });
  });
  afterAll(() => app.close());

  const post = (
    url: string,
    payload: string,
    headers: Record<string, string> = { 'content-type': 'application/json' },
  ) => app.inject({ method: 'POST', url, payload, headers });

  it.each([
    ['schema violation', () => post('/things/abc', '{"n":"x"}'), 400],
    ['bad path parameter', () => post('/things/ABC', '{"n":1}'), 400],
    ['malformed JSON', () => post('/things/abc', '{"n":'), 400],
    [
      'unsupported media type',
      () => post('/things/abc', 'n=1', { 'content-type': 'text/plain' }),
      415,
    ],
    [
      'body too large',
      () => post('/things/abc', JSON.stringify({ n: 1, pad: 'x'.repeat(2000) })),
      413,
    ],
    ['unknown route', () => post('/nowhere', '{}'), 404],
    ['domain rejection', () => post('/rejected', '{}'), 422],
    ['idempotency key in flight', () => post('/in-flight', '{}'), 409],
    ['idempotency key reused for another command', () => post('/mismatch', '{}'), 422],
    ['unexpected error', () => post('/boom', '{}'), 500],
  ])('%s answers problem+json with status %i', async (_name, send, status) => {
    const res = await send();
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json();
    expect(body).toMatchObject({
      status,
      type: expect.any(String),
      title: expect.any(String),
      detail: expect.any(String),
    });
  });

  it('names the failing fields of a schema violation', async () => {
    const res = await post('/things/abc', '{}');
    expect(res.json().detail).toContain('n');
  });

  it('does not leak internals in a 500', async () => {
    const res = await post('/boom', '{}');
    expect(res.json().detail).not.toContain('secret');
  });

  it('carries the domain rejection state and reason', async () => {
    expect((await post('/rejected', '{}')).json()).toMatchObject({
      state: 'cancelled',
      reason: 'not allowed',
    });
  });

  it('passes the caller trace context to the handler', async () => {
    const res = await post('/things/abc', '{"n":1}', {
      'content-type': 'application/json',
      traceparent,
    });
    expect(res.json()).toEqual({ ok: true, traceparent });
  });

  it('answers /health 200 when checks pass and 503 naming the failing check otherwise', async () => {
    healthy = true;
    expect((await app.inject('/health')).statusCode).toBe(200);
    healthy = false;
    const res = await app.inject('/health');
    expect(res.statusCode).toBe(503);
    expect(res.json().checks.db).toEqual({ status: 'failing', detail: 'db down' });
  });

  it('serves Prometheus metrics and the OpenAPI document', async () => {
    const metrics = await app.inject('/metrics');
    expect(metrics.body).toContain('http_request_duration_seconds');
    const doc = await app.inject('/docs/json');
    expect(doc.json().paths).toHaveProperty(['/things/{id}']);
  });
});
