import { hotelAggregates } from '@cqrs/hotel';
import { createTestDatabase, waitUntil, type TestDatabase } from '@cqrs/testing';
import type { Knex } from 'knex';
import pino from 'pino';
import { createCommandService, type CommandService } from './service';

/**
 * The command API of docs/api.md, status code by status code, over HTTP (Fastify's inject) on a
 * real database. A second service with API_TOKEN set shares the database, as a second
 * process would.
 */
describe('command API', () => {
  let db: TestDatabase;
  let service: CommandService;
  let guarded: CommandService;
  const config = {
    mysqlPoolMax: 6,
    snapshotEvery: 100,
    conflictMaxRetries: 10,
    idempotencyLeaseMs: 30_000,
    idempotencyPurgeMs: 60_000,
  };
  const log = pino({ level: 'silent' });

  beforeAll(async () => {
    db = await createTestDatabase('cs_api');
    service = await createCommandService({ ...config, mysqlUrl: db.url }, hotelAggregates, log);
    guarded = await createCommandService(
      { ...config, mysqlUrl: db.url, apiToken: 's3cret' },
      hotelAggregates,
      log,
    );
  });
  afterAll(async () => {
    await service.close();
    await guarded.close();
    await db.drop();
  });

  const send = (
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
    app: CommandService = service,
  ) =>
    app.app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/json', ...headers },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const get = (path: string) => service.app.inject({ method: 'GET', url: path });
  const eventCount = async (knex: Knex = db.knex) => {
    const [rows] = (await knex.raw('SELECT COUNT(*) AS n FROM events')) as [{ n: number }[]];
    return Number(rows[0]!.n);
  };

  const room = {
    hotel: 'Grand Hotel',
    city: 'Paris',
    number: '101',
    roomType: 'double',
    capacity: 2,
    ratePerNight: 12_000,
  };
  const expectProblem = (
    res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
    status: number,
  ) => {
    expect(res.statusCode).toBe(status);
    expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
    const body = res.json() as Record<string, unknown>;
    expect(body).toMatchObject({ status, type: expect.any(String), title: expect.any(String) });
    expect(typeof body.detail).toBe('string');
    return body;
  };

  describe('success', () => {
    it('answers 201 with a consistency token when the command creates the stream', async () => {
      const res = await send('/commands/room/r-101', { type: 'RegisterRoom', data: room });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toEqual({
        aggregateType: 'room',
        aggregateId: 'r-101',
        version: 1,
        position: expect.stringMatching(/^\d+$/),
        events: [{ type: 'RoomRegistered', version: 1 }],
        consistencyToken: 'room:r-101@1',
      });
    });

    it('answers 200 for a command on an existing stream', async () => {
      const res = await send('/commands/room/r-101', {
        type: 'ChangeRoomRate',
        data: { ratePerNight: 13_000 },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ version: 2, consistencyToken: 'room:r-101@2' });
    });

    it('accepts a command without data when it takes none, and a matching If-Match', async () => {
      const res = await send('/commands/room/r-101', { type: 'RetireRoom' }, { 'if-match': '"2"' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        version: 3,
        events: [{ type: 'RoomRetired', version: 3 }],
      });
    });

    it('creates with If-Match "0"', async () => {
      const res = await send(
        '/commands/customer/c-1',
        { type: 'RegisterCustomer', data: { name: 'Ann Smith', email: 'ann@example.com' } },
        { 'if-match': '"0"' },
      );
      expect(res.statusCode).toBe(201);
    });

    it('shows the write-side state and the events of an aggregate', async () => {
      const view = await get('/aggregates/room/r-101');
      expect(view.statusCode).toBe(200);
      expect(view.json()).toMatchObject({
        aggregateType: 'room',
        aggregateId: 'r-101',
        version: 3,
        state: 'retired',
        context: expect.objectContaining({ ratePerNight: 13_000 }),
      });
      const events = await get('/aggregates/room/r-101/events');
      expect(events.statusCode).toBe(200);
      const list = (events.json() as { events: Record<string, unknown>[] }).events;
      expect(list.map((e) => [e.type, e.version])).toEqual([
        ['RoomRegistered', 1],
        ['RoomRateChanged', 2],
        ['RoomRetired', 3],
      ]);
      expect(Object.keys(list[0]!).sort()).toEqual(
        ['data', 'eventId', 'metadata', 'occurredAt', 'position', 'type', 'version'].sort(),
      );
      const tail = await get('/aggregates/room/r-101/events?afterVersion=2');
      expect((tail.json() as { events: unknown[] }).events).toHaveLength(1);
    });

    it('records correlation, causation, idempotency key and trace context in the metadata', async () => {
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      const res = await send(
        '/commands/room/r-meta',
        { type: 'RegisterRoom', data: room },
        {
          'x-correlation-id': 'corr-42',
          'x-request-id': 'req-42',
          'idempotency-key': 'meta-key',
          traceparent,
        },
      );
      expect(res.statusCode).toBe(201);
      const [event] = (
        (await get('/aggregates/room/r-meta/events')).json() as {
          events: { metadata: Record<string, string> }[];
        }
      ).events;
      expect(event!.metadata).toMatchObject({
        correlationId: 'corr-42',
        causationId: 'req-42',
        idempotencyKey: 'meta-key',
      });
      expect(event!.metadata.traceparent).toContain('4bf92f3577b34da6a3ce929d0e0e4736');
    });
  });

  describe('400', () => {
    it('refuses malformed JSON', async () => {
      expectProblem(await send('/commands/room/r-1', '{"type": "RegisterRoom", '), 400);
      expectProblem(await send('/commands/room/r-1', ''), 400);
      expectProblem(await send('/commands/room/r-1', '[1, 2]'), 400);
      expectProblem(await send('/commands/room/r-1', '"just a string"'), 400);
      expectProblem(
        await send('/commands/room/r-1', '{"type":"RegisterRoom","__proto__":{"x":1}}'),
        400,
      );
    });

    it('names the fields that violate the schema', async () => {
      const envelope = expectProblem(await send('/commands/room/r-1', { type: 42 }), 400);
      expect(envelope.detail).toContain('type');
      const payload = expectProblem(
        await send('/commands/customer/c-9', {
          type: 'RegisterCustomer',
          data: { name: '', email: 'not-an-email' },
        }),
        400,
      );
      const paths = (payload.errors as { path: string }[]).map((e) => e.path);
      expect(paths).toEqual(expect.arrayContaining(['data/name', 'data/email']));
      const extra = expectProblem(
        await send('/commands/room/r-1', { type: 'RetireRoom', data: {}, extra: true }),
        400,
      );
      expect(extra.detail).toContain('extra');
    });

    it('refuses a reservation whose checkOut is not after checkIn', async () => {
      const body = expectProblem(
        await send('/commands/reservation/res-bad', {
          type: 'PlaceReservation',
          data: {
            customerId: 'c-1',
            roomId: 'r-101',
            checkIn: '2027-03-05',
            checkOut: '2027-03-05',
            guests: 1,
          },
        }),
        400,
      );
      expect(body.detail).toContain('checkOut');
    });

    it.each([
      ['a space', 'bad%20id'],
      ['a slash', 'a%2Fb'],
      ['unicode', '%C3%A9t%C3%A9'],
      ['65 characters', 'x'.repeat(65)],
      ['5000 characters', 'x'.repeat(5000)],
    ])('refuses an aggregate id with %s', async (_what, id) => {
      expectProblem(await send(`/commands/room/${id}`, { type: 'RetireRoom' }), 400);
      expectProblem(await get(`/aggregates/room/${id}`), 400);
    });

    it.each([
      ['if-match', '3'],
      ['if-match', '"-1"'],
      ['if-match', '"1", "2"'],
      ['if-match', 'W/"1"'],
      ['idempotency-key', 'k'.repeat(129)],
      ['idempotency-key', 'ключ'],
    ])('refuses the header %s: %s', async (name, value) => {
      expectProblem(
        await send('/commands/room/r-1', { type: 'RetireRoom' }, { [name]: value }),
        400,
      );
    });
  });

  describe('401', () => {
    it('requires the bearer token when API_TOKEN is set', async () => {
      const cmd = { type: 'RegisterRoom', data: room };
      expectProblem(await send('/commands/room/r-auth', cmd, {}, guarded), 401);
      expectProblem(
        await send('/commands/room/r-auth', cmd, { authorization: 'Bearer wrong' }, guarded),
        401,
      );
      expectProblem(
        await send('/commands/room/r-auth', cmd, { authorization: 'Basic czNjcmV0' }, guarded),
        401,
      );
      expectProblem(
        await guarded.app.inject({ method: 'GET', url: '/aggregates/room/r-101' }),
        401,
      );
      const ok = await send(
        '/commands/room/r-auth',
        cmd,
        { authorization: 'Bearer s3cret' },
        guarded,
      );
      expect(ok.statusCode).toBe(201);
      expect((await guarded.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    });
  });

  describe('404', () => {
    it('for an unknown aggregate type or command', async () => {
      expectProblem(await send('/commands/spaceship/s-1', { type: 'Launch' }), 404);
      expectProblem(await send('/commands/room/r-1', { type: 'PaintRoom' }), 404);
      expectProblem(await get('/aggregates/spaceship/s-1'), 404);
      expectProblem(await get('/aggregates/spaceship/s-1/events'), 404);
    });

    it('for an aggregate without events', async () => {
      expectProblem(await get('/aggregates/room/nobody'), 404);
      expectProblem(await get('/aggregates/room/nobody/events'), 404);
    });

    it('for a route that does not exist', async () => {
      expectProblem(await get('/nowhere'), 404);
    });
  });

  describe('409', () => {
    it('when If-Match does not match, with the current version', async () => {
      const res = await send(
        '/commands/room/r-101',
        { type: 'ChangeRoomRate', data: { ratePerNight: 1 } },
        { 'if-match': '"1"' },
      );
      expect(expectProblem(res, 409)).toMatchObject({ currentVersion: 3 });
      const exists = await send(
        '/commands/customer/c-1',
        { type: 'RegisterCustomer', data: { name: 'Ann', email: 'ann@example.com' } },
        { 'if-match': '"0"' },
      );
      expect(expectProblem(exists, 409)).toMatchObject({ currentVersion: 1 });
    });

    it('while a request with the same Idempotency-Key is in flight (in another process)', async () => {
      // Hold the stream's first version in an open transaction: the first request claims
      // its key, then waits on the insert - it is in flight.
      const blocker = await db.knex.transaction();
      await blocker.raw(
        `INSERT INTO events (event_id, stream_type, stream_id, version, event_type, data, metadata, occurred_at)
         VALUES (UUID(), 'room', 'r-inflight', 1, 'RoomRegistered', '{}', '{}', NOW(6))`,
      );
      try {
        const cmd = { type: 'RegisterRoom', data: room };
        const first = send('/commands/room/r-inflight', cmd, { 'idempotency-key': 'slow-1' });
        await waitUntil('the first request to claim its key', async () => {
          const [rows] = (await db.knex.raw(
            "SELECT status FROM idempotency_keys WHERE idempotency_key = 'slow-1'",
          )) as [{ status: string }[]];
          return rows[0]?.status === 'pending';
        });
        const again = await send('/commands/room/r-inflight', cmd, {
          'idempotency-key': 'slow-1',
        });
        expect(expectProblem(again, 409)).toMatchObject({ idempotencyKey: 'slow-1' });
        await blocker.rollback();
        expect((await first).statusCode).toBe(201);
        const replay = await send('/commands/room/r-inflight', cmd, {
          'idempotency-key': 'slow-1',
        });
        expect(replay.statusCode).toBe(201);
      } finally {
        if (!blocker.isCompleted()) await blocker.rollback();
      }
    });
  });

  describe('413 and 415', () => {
    it('refuses a body over 64 KiB', async () => {
      const big = { type: 'RegisterRoom', data: { ...room, hotel: 'x'.repeat(70_000) } };
      expectProblem(await send('/commands/room/r-big', big), 413);
    });

    it('refuses anything but application/json', async () => {
      const body = JSON.stringify({ type: 'RetireRoom' });
      for (const contentType of [
        'text/plain',
        'application/xml',
        'application/x-www-form-urlencoded',
      ]) {
        const res = await service.app.inject({
          method: 'POST',
          url: '/commands/room/r-101',
          headers: { 'content-type': contentType },
          payload: body,
        });
        expectProblem(res, 415);
      }
      const none = await service.app.inject({ method: 'POST', url: '/commands/room/r-101' });
      expectProblem(none, 415);
    });
  });

  describe('422', () => {
    it('when the aggregate refuses the command, naming its state', async () => {
      const res = await send('/commands/room/r-101', {
        type: 'ChangeRoomRate',
        data: { ratePerNight: 9_000 },
      });
      expect(expectProblem(res, 422)).toMatchObject({
        state: 'retired',
        reason: expect.any(String),
      });
    });

    it('when a reservation names a room that does not exist', async () => {
      const res = await send('/commands/reservation/res-1', {
        type: 'PlaceReservation',
        data: {
          customerId: 'c-1',
          roomId: 'no-such-room',
          checkIn: '2027-03-05',
          checkOut: '2027-03-07',
          guests: 1,
        },
      });
      expectProblem(res, 422);
    });
  });

  describe('Idempotency-Key', () => {
    const cmd = { type: 'RegisterRoom', data: { ...room, number: '202' } };

    it('replays the original response for the same command and appends nothing', async () => {
      const first = await send('/commands/room/r-202', cmd, { 'idempotency-key': 'k-202' });
      expect(first.statusCode).toBe(201);
      const before = await eventCount();
      const again = await send('/commands/room/r-202', cmd, { 'idempotency-key': 'k-202' });
      expect(again.statusCode).toBe(201);
      expect(again.json()).toEqual(first.json());
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(await eventCount()).toBe(before);
    });

    it('refuses the same key with another command (422)', async () => {
      const other = await send(
        '/commands/room/r-202',
        { type: 'ChangeRoomRate', data: { ratePerNight: 1 } },
        { 'idempotency-key': 'k-202' },
      );
      expect(expectProblem(other, 422)).toMatchObject({ idempotencyKey: 'k-202' });
    });

    it('appends once when the same request races through two processes', async () => {
      const race = { type: 'RegisterRoom', data: { ...room, number: '303' } };
      const headers = { 'idempotency-key': 'k-303', authorization: 'Bearer s3cret' };
      const responses = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          send('/commands/room/r-303', race, headers, i % 2 === 0 ? service : guarded),
        ),
      );
      const statuses = responses.map((r) => r.statusCode);
      expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
      expect(statuses).toContain(201);
      const positions = new Set(
        responses
          .filter((r) => r.statusCode === 201)
          .map((r) => (r.json() as { position: string }).position),
      );
      expect(positions.size).toBe(1);
      const events = (await get('/aggregates/room/r-303/events')).json() as { events: unknown[] };
      expect(events.events).toHaveLength(1);
    });

    it('lets the key be used again after the command failed', async () => {
      const refused = await send(
        '/commands/room/r-101',
        { type: 'ChangeRoomRate', data: { ratePerNight: 5 } },
        { 'idempotency-key': 'k-failed' },
      );
      expect(refused.statusCode).toBe(422);
      const retried = await send(
        '/commands/room/r-202',
        { type: 'ChangeRoomRate', data: { ratePerNight: 5 } },
        { 'idempotency-key': 'k-failed' },
      );
      expect(retried.statusCode).toBe(200);
    });
  });

  describe('hostile input never gets a 500', () => {
    it.each([
      [
        'deep nesting',
        `{"type":"RegisterRoom","data":{"hotel":${'['.repeat(20_000)}${']'.repeat(20_000)}}}`,
      ],
      ['a huge number', '{"type":"ChangeRoomRate","data":{"ratePerNight":1e400}}'],
      ['a negative rate', '{"type":"ChangeRoomRate","data":{"ratePerNight":-1}}'],
      ['a null body', 'null'],
      ['null data', '{"type":"RetireRoom","data":null}'],
      ['a constructor key', '{"type":"RetireRoom","data":{"constructor":{"prototype":{}}}}'],
      ['control characters', '{"type":"Retire\\u0000Room"}'],
      ['duplicate keys', '{"type":"RetireRoom","type":"PaintRoom"}'],
    ])('%s', async (_what, payload) => {
      const res = await send('/commands/room/r-202', payload);
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
    });

    it.each([
      ['a name', { name: '\ud800', email: 'a@x.io' }, 'body/data/name'],
      ['an email', { name: 'Ann', email: 'a\udc00@x.io' }, 'body/data/email'],
      ['a phone', { name: 'Ann', email: 'a@x.io', phone: '\ud83d' }, 'body/data/phone'],
    ])(
      'refuses a lone surrogate in %s (400 naming it) and writes nothing',
      async (_f, data, path) => {
        const before = await eventCount();
        const body = expectProblem(
          await send('/commands/customer/c-surrogate', { type: 'RegisterCustomer', data }),
          400,
        );
        expect(body.errors).toEqual([expect.objectContaining({ path })]);
        expect(await eventCount()).toBe(before);
      },
    );

    it('bounds ratePerNight so that 365 nights of it stay a safe integer', async () => {
      const tooHigh = expectProblem(
        await send('/commands/room/r-rich', {
          type: 'RegisterRoom',
          data: { ...room, ratePerNight: 10_000_000_000_001 },
        }),
        400,
      );
      expect(tooHigh.detail).toContain('ratePerNight');
      const highest = await send('/commands/room/r-rich', {
        type: 'RegisterRoom',
        data: { ...room, ratePerNight: 10_000_000_000_000 },
      });
      expect(highest.statusCode).toBe(201);
      expect(365 * 10_000_000_000_000).toBeLessThan(Number.MAX_SAFE_INTEGER);
    });

    it('refuses an absurd stay (0000-01-01 to 9999-12-31) with a 400 and writes nothing', async () => {
      const before = await eventCount();
      const body = expectProblem(
        await send('/commands/reservation/res-absurd', {
          type: 'PlaceReservation',
          data: {
            customerId: 'c-1',
            roomId: 'r-101',
            checkIn: '0000-01-01',
            checkOut: '9999-12-31',
            guests: 1,
          },
        }),
        400,
      );
      expect(body.detail).toContain('checkOut');
      expect(await eventCount()).toBe(before);
    });

    it('refuses a JSON body in another charset (415) and writes nothing', async () => {
      const before = await eventCount();
      const res = await service.app.inject({
        method: 'POST',
        url: '/commands/room/r-utf16',
        headers: { 'content-type': 'application/json; charset=utf-16' },
        payload: JSON.stringify({ type: 'RegisterRoom', data: room }),
      });
      expectProblem(res, 415);
      expect(await eventCount()).toBe(before);
    });

    it('ignores malformed correlation and trace headers', async () => {
      const res = await send(
        '/commands/room/r-hostile',
        { type: 'RegisterRoom', data: room },
        {
          'x-correlation-id': '<script>'.repeat(50),
          'x-request-id': 'a b c',
          traceparent: 'garbage',
          tracestate: 'x'.repeat(5000),
        },
      );
      expect(res.statusCode).toBe(201);
      const [event] = (
        (await get('/aggregates/room/r-hostile/events')).json() as {
          events: { metadata: Record<string, string> }[];
        }
      ).events;
      expect(event!.metadata.traceparent).toBeUndefined();
      expect(event!.metadata.tracestate).toBeUndefined();
      expect(event!.metadata.correlationId).not.toContain('<script>');
    });
  });

  describe('operations', () => {
    it('reports health with the database check', async () => {
      const res = await get('/health');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ status: 'ok', checks: { mysql: { status: 'ok' } } });
    });

    it('exposes commands by type and outcome, and live actors', async () => {
      const text = (await get('/metrics')).body;
      expect(text).toMatch(
        /commands_total\{aggregate_type="room",command_type="RegisterRoom",outcome="accepted"[^}]*\} \d+/,
      );
      expect(text).toMatch(/commands_total\{[^}]*outcome="rejected"[^}]*\} \d+/);
      expect(text).toMatch(
        /commands_total\{aggregate_type="unknown",command_type="unknown",outcome="not-found"/,
      );
      expect(text).toMatch(/aggregate_live_actors\{[^}]*\} [1-9]/);
    });

    it('documents every route with its schemas in OpenAPI', async () => {
      const doc = (await get('/docs/json')).json() as {
        paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      };
      const post = doc.paths['/commands/reservation/{aggregateId}']!.post!;
      expect(Object.keys(post.responses)).toEqual(
        expect.arrayContaining(['200', '201', '400', '401', '404', '409', '413', '415', '422']),
      );
      expect(JSON.stringify(post)).toContain('PlaceReservation');
      expect(doc.paths['/aggregates/{aggregateType}/{aggregateId}/events']).toBeDefined();
    });
  });
});
