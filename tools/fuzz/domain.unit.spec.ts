import fc from 'fast-check';
import { stay, validRequestFor } from './domain';
import type { FuzzRequest, Operation } from './requests';
import { World } from './world';

const ID = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' };
const DATE = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' };
const NAME = { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' };

/** The reservation command route as the command-service's OpenAPI document shows it. */
const placeOp: Operation = {
  app: 'command-service',
  method: 'POST',
  path: '/commands/reservation/{aggregateId}',
  params: [
    { in: 'path', name: 'aggregateId', required: true, schema: ID },
    {
      in: 'header',
      name: 'if-match',
      required: false,
      schema: { type: 'string', pattern: '^"(0|[1-9][0-9]{0,9})"$' },
    },
  ],
  body: {
    anyOf: [
      {
        type: 'object',
        required: ['type', 'data'],
        properties: {
          type: { type: 'string', enum: ['PlaceReservation'] },
          data: {
            type: 'object',
            required: ['customerId', 'roomId', 'checkIn', 'checkOut', 'guests'],
            properties: {
              customerId: ID,
              roomId: ID,
              checkIn: DATE,
              checkOut: DATE,
              guests: { type: 'integer', minimum: 1 },
            },
          },
        },
      },
      {
        type: 'object',
        required: ['type'],
        properties: {
          type: { type: 'string', enum: ['ConfirmReservation'] },
          data: { type: 'object', properties: {} },
        },
      },
    ],
  },
};

const sample = (op: Operation, n = 200) =>
  fc.sample(validRequestFor(op, 't'), { numRuns: n, seed: 1 });
const bodyOf = (req: FuzzRequest) =>
  JSON.parse(req.body!.toString('utf8')) as { type: string; data?: Record<string, unknown> };

describe('the fuzzer valid arm', () => {
  it('generates stays of 1 to 365 nights, checkIn before checkOut, as real dates', () => {
    fc.assert(
      fc.property(stay, ([checkIn, checkOut]) => {
        const nights = (Date.parse(checkOut) - Date.parse(checkIn)) / 86_400_000;
        expect(new Date(checkIn).toISOString().slice(0, 10)).toBe(checkIn);
        expect(nights).toBeGreaterThanOrEqual(1);
        expect(nights).toBeLessThanOrEqual(365);
      }),
    );
  });

  it('places reservations on a new id for a registered customer and room, and confirms existing ones', () => {
    const world = new World();
    world.record({ aggregateType: 'customer', aggregateId: 'c-9', version: 1 });
    world.record({ aggregateType: 'room', aggregateId: 'r-9', version: 2 });
    world.record({
      aggregateType: 'reservation',
      aggregateId: 'res-9',
      version: 3,
      consistencyToken: 'reservation:res-9@3',
    });
    const sent = sample(placeOp).map((r) => world.resolve(r));
    const places = sent.filter((r) => bodyOf(r).type === 'PlaceReservation');
    const confirms = sent.filter((r) => bodyOf(r).type === 'ConfirmReservation');
    expect(places.length).toBeGreaterThan(40);
    expect(confirms.length).toBeGreaterThan(40);
    for (const r of places) {
      const { data } = bodyOf(r);
      expect(r.target).toMatch(/^\/commands\/reservation\/fz-\d+$/);
      expect(data).toMatchObject({ customerId: 'c-9', roomId: 'r-9' });
      expect(String(data!.checkIn) < String(data!.checkOut)).toBe(true);
    }
    for (const r of confirms) {
      expect(r.target).toBe('/commands/reservation/res-9');
      const ifMatch = r.headers.find(([n]) => n === 'if-match');
      if (ifMatch) expect(ifMatch[1]).toBe('"3"');
    }
    expect(sent.every((r) => r.arm === 'valid' && !r.target.includes('~~'))).toBe(true);
  });

  it('asks the query routes for existing ids, with every required parameter and no cursor', () => {
    const world = new World();
    world.record({
      aggregateType: 'customer',
      aggregateId: 'c-9',
      version: 1,
      consistencyToken: 'customer:c-9@1',
    });
    const byId: Operation = {
      app: 'query-service',
      method: 'GET',
      path: '/customers/{id}',
      params: [
        { in: 'path', name: 'id', required: true, schema: ID },
        { in: 'header', name: 'x-consistency-token', required: false, schema: { type: 'string' } },
        {
          in: 'header',
          name: 'x-consistency-timeout-ms',
          required: false,
          schema: { type: 'string' },
        },
      ],
    };
    const sent = sample(byId).map((r) => world.resolve(r));
    expect(new Set(sent.map((r) => r.target))).toEqual(new Set(['/customers/c-9']));
    const waits = sent.filter((r) => r.headers.some(([n]) => n === 'x-consistency-token'));
    expect(waits.length).toBeGreaterThan(0);
    for (const r of waits) {
      expect(r.headers).toEqual(
        expect.arrayContaining([
          ['x-consistency-token', 'customer:c-9@1'],
          ['x-consistency-timeout-ms', '1000'],
        ]),
      );
    }

    const availability: Operation = {
      app: 'query-service',
      method: 'GET',
      path: '/rooms/availability',
      params: [
        { in: 'query', name: 'checkIn', required: true, schema: DATE },
        { in: 'query', name: 'checkOut', required: true, schema: DATE },
        { in: 'query', name: 'hotel', required: false, schema: NAME },
        { in: 'query', name: 'cursor', required: false, schema: { type: 'string', minLength: 1 } },
      ],
    };
    for (const r of sample(availability)) {
      const q = new URL(r.target, 'http://x').searchParams;
      expect(q.get('checkIn')! < q.get('checkOut')!).toBe(true);
      expect(q.has('cursor')).toBe(false);
    }
  });

  it('sends no more commands to a stream once it ended (deactivated, retired, cancelled...)', () => {
    const world = new World();
    world.record({ aggregateType: 'reservation', aggregateId: 'res-a', version: 1 });
    world.record({ aggregateType: 'reservation', aggregateId: 'res-b', version: 1 });
    world.record({
      aggregateType: 'reservation',
      aggregateId: 'res-a',
      version: 2,
      events: [{ type: 'ReservationCancelled', version: 2 }],
    });
    const confirms = sample(placeOp)
      .filter((r) => bodyOf(r).type === 'ConfirmReservation')
      .map((r) => world.resolve(r).target);
    expect(new Set(confirms)).toEqual(new Set(['/commands/reservation/res-b']));
    expect(world.sizes).toEqual({ customer: 0, room: 0, reservation: 2 });
  });

  it('falls back to fresh ids while the world knows none, and keeps a body byte for byte but its references', () => {
    const world = new World();
    const req: FuzzRequest = {
      app: 'command-service',
      arm: 'valid',
      route: 'POST /commands/room/{aggregateId}',
      method: 'POST',
      target: '/commands/room/~~room.3~~',
      headers: [['if-match', '"~~version~~"']],
      body: Buffer.concat([
        Buffer.from('{"roomId":"~~room.0~~","x":"'),
        Buffer.from([0xff]),
        Buffer.from('"}'),
      ]),
    };
    const sent = world.resolve(req);
    expect(sent.target).toMatch(/^\/commands\/room\/fz-\d+$/);
    expect(sent.headers).toEqual([['if-match', '"0"']]);
    expect(sent.body!.includes(Buffer.from([0xff]))).toBe(true);
    expect(sent.body!.toString('latin1')).toMatch(/^\{"roomId":"fz-\d+","x":"\xff"\}$/);
  });
});
