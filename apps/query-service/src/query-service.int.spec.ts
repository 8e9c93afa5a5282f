import { migrate } from '@cqrs/event-store';
import type { EventEnvelope } from '@cqrs/core';
import { createEventBackends, waitUntil, type EventBackends } from '@cqrs/testing';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { createQueryService, type QueryService, type QueryServiceConfig } from './service';

const ADMIN = 'admin-secret';

jest.setTimeout(60_000);

describe('query service (RabbitMQ + Elasticsearch + MySQL)', () => {
  let backends: EventBackends;
  let db: EventBackends['db'];
  let service: QueryService;
  const start = (roles: QueryServiceConfig['roles']) =>
    createQueryService(
      { ...backends.urls, adminToken: ADMIN, roles, prefetch: 200, batchDelayMs: 5 },
      pino({ level: process.env.TEST_LOG ?? 'silent' }),
    );

  beforeAll(async () => {
    backends = await createEventBackends('query');
    db = backends.db;
    await migrate(db.knex);
    service = await start({ api: true, projector: true });
    await waitUntil('the projector to consume', () => service.projector?.isConsuming);
  });

  afterAll(async () => {
    await service?.close();
    await backends?.close();
  });

  type Ev = {
    streamType: string;
    streamId: string;
    version: number;
    type: string;
    data?: Record<string, unknown>;
  };
  const bodies = new Map<Ev, EventEnvelope>();

  /** Commits events to the event store (as the command side does) and returns their messages. */
  async function commit(...events: Ev[]): Promise<Ev[]> {
    for (const e of events) {
      const eventId = randomUUID();
      const occurredAt = new Date().toISOString().replace('Z', '000Z');
      const [position] = await db.knex('events').insert({
        event_id: eventId,
        stream_type: e.streamType,
        stream_id: e.streamId,
        version: e.version,
        event_type: e.type,
        schema_version: 1,
        data: JSON.stringify(e.data ?? {}),
        metadata: JSON.stringify({ correlationId: 'test' }),
        occurred_at: occurredAt.replace('T', ' ').replace('Z', ''),
      });
      bodies.set(e, {
        eventId,
        streamType: e.streamType,
        streamId: e.streamId,
        version: e.version,
        position: String(position),
        type: e.type,
        schemaVersion: 1,
        occurredAt,
        data: e.data ?? {},
        metadata: { correlationId: 'test' },
      });
    }
    return events;
  }

  /** Publishes the committed events as the relay does. */
  const publish = (...events: Ev[]) => backends.publish(events.map((e) => bodies.get(e)!));

  const get = (url: string, headers: Record<string, string> = {}) =>
    service.app.inject({ method: 'GET', url, headers });

  const customer = (id: string, name: string, version = 1): Ev =>
    version === 1
      ? {
          streamType: 'customer',
          streamId: id,
          version,
          type: 'CustomerRegistered',
          data: { name, email: `${id}@example.com` },
        }
      : { streamType: 'customer', streamId: id, version, type: 'CustomerRenamed', data: { name } };
  const room = (id: string, hotel: string, city = 'Lisbon'): Ev => ({
    streamType: 'room',
    streamId: id,
    version: 1,
    type: 'RoomRegistered',
    data: { hotel, city, number: '101', roomType: 'double', capacity: 2, ratePerNight: 10000 },
  });
  const placed = (id: string, customerId: string, roomId: string, checkIn = '2026-05-01'): Ev => ({
    streamType: 'reservation',
    streamId: id,
    version: 1,
    type: 'ReservationPlaced',
    data: {
      customerId,
      roomId,
      checkIn,
      checkOut: '2026-05-03',
      guests: 2,
      nights: 2,
      ratePerNight: 10000,
      totalPrice: 20000,
    },
  });
  const confirmed = (id: string): Ev => ({
    streamType: 'reservation',
    streamId: id,
    version: 2,
    type: 'ReservationConfirmed',
  });

  it('answers a query holding a consistency token with the joined reservation', async () => {
    await publish(
      ...(await commit(
        customer('c-1', 'Ada Lovelace'),
        room('rm-1', 'Grand Hotel'),
        placed('r-1', 'c-1', 'rm-1'),
      )),
    );
    const res = await get('/reservations/r-1', {
      'x-consistency-token': 'reservation:r-1@1, customer:c-1@1',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      id: 'r-1',
      status: 'pending',
      checkIn: '2026-05-01',
      checkOut: '2026-05-03',
      nights: 2,
      guests: 2,
      totalPrice: 20000,
      customer: { id: 'c-1', name: 'Ada Lovelace', email: 'c-1@example.com' },
      room: { id: 'rm-1', hotel: 'Grand Hotel', city: 'Lisbon', number: '101', roomType: 'double' },
      version: 1,
      updatedAt: expect.any(String),
    });
    // Searchable, not just stored:
    const list = await get('/reservations?q=ada%20love', {
      'x-consistency-token': 'reservation:r-1@1',
    });
    expect(list.json().hits.map((h: { id: string }) => h.id)).toEqual(['r-1']);
  });

  it('converges under out-of-order and duplicate delivery', async () => {
    const events = await commit(
      customer('c-2', 'Grace Hopper'),
      customer('c-2', 'Grace B. Hopper', 2),
      room('rm-2', 'Harbour Inn', 'Porto'),
      placed('r-2', 'c-2', 'rm-2'),
      confirmed('r-2'),
    );
    const [reg, ren, rm, pl, conf] = events as [Ev, Ev, Ev, Ev, Ev];
    // The reservation before its customer and room, the rename before the registration,
    // then everything again.
    await publish(conf, pl, ren, rm, reg, conf, pl, reg, ren, rm);
    const res = await get('/reservations/r-2', {
      'x-consistency-token': 'reservation:r-2@2,customer:c-2@2,room:rm-2@1',
    });
    expect(res.json()).toMatchObject({
      status: 'confirmed',
      version: 2,
      customer: { name: 'Grace B. Hopper' },
      room: { hotel: 'Harbour Inn', city: 'Porto' },
    });
    const log = await get('/events?streamId=r-2');
    expect(log.json().total).toBe(2);
  });

  it('propagates a rename to every reservation of the customer', async () => {
    await publish(
      ...(await commit(
        customer('c-3', 'Alan Turing'),
        room('rm-3', 'Bletchley Park Hotel'),
        placed('r-3a', 'c-3', 'rm-3'),
        placed('r-3b', 'c-3', 'rm-3'),
        placed('r-3c', 'c-3', 'rm-3'),
      )),
    );
    await get('/reservations?customerId=c-3', { 'x-consistency-token': 'reservation:r-3c@1' });
    await publish(...(await commit(customer('c-3', 'Alan M. Turing', 2))));
    const res = await get('/reservations?customerId=c-3', {
      'x-consistency-token': 'customer:c-3@2',
    });
    expect(res.json().hits.map((h: { customer: { name: string } }) => h.customer.name)).toEqual([
      'Alan M. Turing',
      'Alan M. Turing',
      'Alan M. Turing',
    ]);
    expect((await get('/customers/c-3')).json()).toMatchObject({
      name: 'Alan M. Turing',
      version: 2,
    });
  });

  it('answers tokens on an API-only instance: it refreshes what another projector applied', async () => {
    const api = await start({ api: true, projector: false });
    const applied = (events: Ev[]) => {
      const position = BigInt(bodies.get(events.at(-1)!)!.position);
      return waitUntil('the projector to apply', () =>
        BigInt(service.projector!.checkpoint) >= position ? true : undefined,
      );
    };
    try {
      // Whether this instance heard the announcement on the progress bus (subscribed a moment
      // after start) or looks the stream up, it must answer.
      for (const [id, name, version] of [
        ['c-8', 'Barbara Liskov', 1],
        ['c-8', 'Barbara H. Liskov', 2],
        ['c-9', 'Edsger Dijkstra', 1],
      ] as const) {
        // Applied by the other instance's projector, which does not refresh; nobody waited
        // there. The API instance reads the version in real time, refreshes, answers.
        const events = await commit(customer(id, name, version));
        await publish(...events);
        await applied(events);
        const res = await api.app.inject({
          method: 'GET',
          url: `/customers?q=${encodeURIComponent(name)}`,
          headers: { 'x-consistency-token': `customer:${id}@${version}` },
        });
        expect(res.json().hits.map((h: { id: string; name: string }) => [h.id, h.name])).toEqual([
          [id, name],
        ]);
      }
    } finally {
      await api.close();
    }
  });

  it('times out with 504 naming the tokens not reached; refuses malformed tokens', async () => {
    const res = await get('/reservations/r-1', {
      'x-consistency-token': 'reservation:r-1@1,reservation:r-never@3',
      'x-consistency-timeout-ms': '100',
    });
    expect(res.statusCode).toBe(504);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json().tokens).toEqual(['reservation:r-never@3']);
    expect((await get('/reservations/r-1', { 'x-consistency-token': 'garbage' })).statusCode).toBe(
      400,
    );
    expect(
      (await get('/reservations/r-1', { 'x-consistency-token': 'order:o-1@1' })).statusCode,
    ).toBe(400);
    const t = { 'x-consistency-token': 'reservation:r-1@1', 'x-consistency-timeout-ms': 'soon' };
    expect((await get('/reservations/r-1', t)).statusCode).toBe(400);
  });

  it('pages through results without duplicates or gaps, with facets', async () => {
    const events = [customer('c-4', 'Page Tester'), room('rm-4', 'Paging Palace', 'Madrid')];
    for (let i = 0; i < 23; i++) {
      events.push(
        placed(
          `r-4-${String(i).padStart(2, '0')}`,
          'c-4',
          'rm-4',
          `2026-06-${String((i % 5) + 1).padStart(2, '0')}`,
        ),
      );
    }
    await publish(...(await commit(...events)));
    await get('/reservations', { 'x-consistency-token': 'reservation:r-4-22@1' });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/reservations?hotel=Paging%20Palace&sort=checkIn&size=5${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await get(url)).json() as {
        total: number;
        hits: { id: string }[];
        facets: { status: Record<string, number>; hotel: Record<string, number> };
        nextCursor: string | null;
      };
      expect(page.total).toBe(23);
      expect(page.facets).toEqual({ status: { pending: 23 }, hotel: { 'Paging Palace': 23 } });
      seen.push(...page.hits.map((h) => h.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(5);
    expect(new Set(seen).size).toBe(23);
    const other = await get(
      `/reservations?hotel=Elsewhere&sort=checkIn&size=5&cursor=${
        (await get('/reservations?hotel=Paging%20Palace&sort=checkIn&size=5')).json().nextCursor
      }`,
    );
    expect(other.statusCode).toBe(400);
  });

  it('answers hostile free text with 200, bad parameters with 400, unknown ids with 404', async () => {
    const hostile = [
      '*',
      '"unbalanced',
      'name:(a OR',
      '\\',
      '/.*/',
      'a~999 AND NOT b^',
      '{"query":{"match_all":{}}}',
      '<script>alert(1)</script>',
      '; DROP TABLE events; --',
      '\u0000\u0001',
      'ﾟ･✿ヾ╲(｡◕‿◕｡)╱✿･ﾟ',
      'a '.repeat(240),
    ];
    for (const q of hostile) {
      for (const path of ['/reservations', '/customers', '/rooms']) {
        const res = await get(`${path}?q=${encodeURIComponent(q)}`);
        expect({ q, path, status: res.statusCode }).toEqual({ q, path, status: 200 });
      }
    }
    for (const url of [
      '/reservations?size=0',
      '/reservations?size=101',
      '/reservations?size=ten',
      '/reservations?status=lost',
      '/reservations?checkInFrom=2026-02-30',
      '/reservations?checkInFrom=2026-05-02&checkInTo=2026-05-01',
      '/reservations?sort=price',
      '/reservations?bogus=1',
      '/reservations?cursor=not-a-cursor',
      `/reservations?q=${'x'.repeat(501)}`,
      '/events?streamId=no%20spaces',
      '/reservations/has%20space',
      '/reservations?size=Infinity',
      '/customers?size=Infinity',
      '/rooms?size=-Infinity',
      '/events?size=1e400',
      '/reservations?size=2.5',
      '/reservations/%FF',
      '/customers/%',
      '/rooms/%ED%A0%80',
    ]) {
      const res = await get(url);
      expect({ url, status: res.statusCode }).toEqual({ url, status: 400 });
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
    for (const url of [
      '/reservations/unknown',
      '/customers/unknown',
      '/rooms/unknown',
      '/reservations/c-1',
    ]) {
      expect({ url, status: (await get(url)).statusCode }).toEqual({ url, status: 404 });
    }
  });

  it('dead-letters a poison event with the reason and lets the others flow on', async () => {
    const [poison] = await commit({
      ...placed('r-5', 'c-1', 'rm-1'),
      data: { ...placed('r-5', 'c-1', 'rm-1').data, checkIn: 'not-a-date' },
    });
    await publish(poison!);
    backends.channel.publish('events', 'reservation.ReservationPlaced', Buffer.from('{not json'), {
      messageId: 'garbage',
    });
    await publish(...(await commit(placed('r-6', 'c-1', 'rm-1'))));
    const ok = await get('/reservations/r-6', { 'x-consistency-token': 'reservation:r-6@1' });
    expect(ok.statusCode).toBe(200);
    const admin = { authorization: `Bearer ${ADMIN}` };
    const dead = await waitUntil('two dead letters', async () => {
      const body = (await get('/admin/dead-letters', admin)).json() as {
        total: number;
        deadLetters: { reason: string; messageId: string }[];
      };
      return body.total >= 2 ? body : undefined;
    });
    expect(dead.deadLetters.map((d) => d.reason).sort()).toEqual([
      expect.stringMatching(/^ValidationError: message body is not JSON/),
      expect.stringMatching(
        /^ValidationError: reservations\/r-5: document_parsing_exception.*checkIn/,
      ),
    ]);
    expect((await get('/admin/dead-letters')).statusCode).toBe(401);
    const metrics = (await get('/metrics')).body;
    expect(metrics).toMatch(/projector_events_total\{outcome="dead_lettered"[^}]*\} 2/);

    // The garbage is discarded, the poison event sent back (and dead-lettered again: its
    // cause is still there); both by message id, each a 404 once it is gone.
    const discard = await service.app.inject({
      method: 'DELETE',
      url: '/admin/dead-letters/garbage',
      headers: admin,
    });
    expect(discard.json()).toEqual({ discarded: 1 });
    const again = await service.app.inject({
      method: 'DELETE',
      url: '/admin/dead-letters/garbage',
      headers: admin,
    });
    expect(again.statusCode).toBe(404);
    const poisonId = dead.deadLetters.find((d) => d.reason.includes('r-5'))!.messageId;
    const replay = await service.app.inject({
      method: 'POST',
      url: `/admin/dead-letters/${poisonId}/replay`,
      headers: admin,
    });
    expect(replay.json()).toEqual({ replayed: 1 });
    const back = await waitUntil('the poison event dead-lettered again', async () => {
      const body = (await get('/admin/dead-letters', admin)).json() as {
        deadLetters: { messageId: string }[];
      };
      return body.deadLetters.length === 1 ? body.deadLetters : undefined;
    });
    expect(back[0]!.messageId).toBe(poisonId);
  });

  it('rebuilds a read model while events keep flowing: reads never fail, nothing is lost', async () => {
    const admin = { authorization: `Bearer ${ADMIN}` };
    const before = (await get('/admin/projections', admin))
      .json()
      .projections.find((p: { name: string }) => p.name === 'reservations').index;
    await publish(
      ...(await commit(customer('c-7', 'Rebuild Reader'), room('rm-7', 'Rebuild Resort'))),
    );
    let n = 0;
    const next = () => placed(`r-7-${n++}`, 'c-7', 'rm-7');
    const initial: Ev[] = [];
    for (let i = 0; i < 150; i++) initial.push(next());
    await publish(...(await commit(...initial)));

    let reading = true;
    let failures = 0;
    const reads = (async () => {
      while (reading) {
        const res = await get('/reservations?hotel=Rebuild%20Resort&size=1');
        if (res.statusCode !== 200) failures++;
      }
    })();
    const started = await service.app.inject({
      method: 'POST',
      url: '/admin/projections/reservations/rebuild',
      headers: admin,
    });
    expect(started.statusCode).toBe(202);
    // Commands keep flowing during the rebuild.
    while (service.rebuilder.progress('reservations')?.state !== 'done') {
      await publish(...(await commit(next(), next())));
      expect(service.rebuilder.progress('reservations')?.state).not.toBe('failed');
      await new Promise((r) => setTimeout(r, 20));
    }
    await publish(...(await commit(next(), customer('c-7', 'Rebuild Reader II', 2))));
    reading = false;
    await reads;
    expect(failures).toBe(0);

    const res = await get(`/reservations?hotel=Rebuild%20Resort&size=1`, {
      'x-consistency-token': `reservation:r-7-${n - 1}@1,customer:c-7@2`,
    });
    expect({ status: res.statusCode, body: res.statusCode === 200 ? '' : res.body }).toEqual({
      status: 200,
      body: '',
    });
    expect(res.json().total).toBe(n);
    const renamed = await get(
      `/reservations?customerId=c-7&q=${encodeURIComponent('Reader II')}&size=1`,
    );
    expect(renamed.json().total).toBe(n);
    const after = (await get('/admin/projections', admin))
      .json()
      .projections.find((p: { name: string }) => p.name === 'reservations');
    expect(after.index).not.toBe(before);
    expect(after.rebuild).toMatchObject({ state: 'done', fraction: 1 });
    // The earlier reservations survived the swap too.
    expect((await get('/reservations/r-1')).json().customer.name).toBe('Ada Lovelace');
  });
});
