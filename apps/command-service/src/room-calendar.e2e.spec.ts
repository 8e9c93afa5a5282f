import { ProcessTablesBuilder } from '@cqrs/aggregates';
import { rebuildProcessTables } from '@cqrs/event-store';
import { hotelAggregates } from '@cqrs/hotel';
import { AppProcess, createTestDatabase, waitUntil, type TestDatabase } from '@cqrs/testing';

/**
 * The room calendar across processes (docs/room-calendar.md): 200 concurrent placements on
 * overlapping nights of one room, spread over two command-service processes, leave exactly one
 * holder per night - checked in MySQL, events and claims; released nights can be booked again;
 * a deadline due while every process is down fires once after a restart.
 */
const ATTEMPTS = 200;
const WINDOW = 10; // nights 2031-01-01 .. 2031-01-10

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function send(
  url: string,
  type: string,
  id: string,
  command: string,
  data: unknown = {},
): Promise<Reply> {
  const res = await fetch(`${url}/commands/${type}/${id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: command, data }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const night = (i: number) => `2031-01-${String(i + 1).padStart(2, '0')}`;
const stay = (roomId: string, from: number, nights: number, customerId = 'c-1') => ({
  customerId,
  roomId,
  checkIn: night(from),
  checkOut: night(from + nights),
  guests: 1,
});

/** Every attempt i: 1-3 nights in the window; the one-night attempts cover every night. */
function attempt(i: number): { from: number; nights: number } {
  const nights = 1 + (i % 3);
  return { from: (i * 7) % (WINDOW - nights + 1), nights };
}

describe('room calendar across command-service processes', () => {
  let db: TestDatabase;
  const running: AppProcess[] = [];
  const launch = async (env: Record<string, string> = {}) => {
    const p = await AppProcess.start('command-service', {
      MYSQL_URL: db.url,
      DEADLINE_POLL_INTERVAL_MS: '50',
      ...env,
    });
    running.push(p);
    return p;
  };
  const rows = async <T>(sql: string, values: readonly string[] = []): Promise<T[]> =>
    ((await db.knex.raw(sql, values)) as [T[]])[0];

  beforeAll(async () => {
    db = await createTestDatabase('room_calendar');
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => p.kill9()));
    await db.drop();
  });

  it('200 concurrent placements over two processes: one holder per night, released nights rebookable', async () => {
    const [a, b] = await Promise.all([launch(), launch()]);
    expect(
      (await send(a.url, 'customer', 'c-1', 'RegisterCustomer', { name: 'Ada', email: 'a@x.io' }))
        .status,
    ).toBe(201);
    const room = { hotel: 'Grand', city: 'Porto', number: '7', roomType: 'single', capacity: 1 };
    expect(
      (await send(b.url, 'room', 'room-1', 'RegisterRoom', { ...room, ratePerNight: 9_000 }))
        .status,
    ).toBe(201);

    const started = performance.now();
    const replies = await Promise.all(
      Array.from({ length: ATTEMPTS }, (_, i) => {
        const { from, nights } = attempt(i);
        return send(
          i % 2 === 0 ? a.url : b.url,
          'reservation',
          `race-${i}`,
          'PlaceReservation',
          stay('room-1', from, nights),
        );
      }),
    );
    const elapsedMs = Math.round(performance.now() - started);
    const statuses = replies.map((r) => r.status);
    const winners = statuses.filter((s) => s === 201).length;
    expect(statuses.filter((s) => s !== 201 && s !== 422)).toEqual([]);
    for (const r of replies.filter((r) => r.status === 422)) {
      expect(r.body).toMatchObject({ rule: 'room-available' });
      expect((r.body.nights as string[]).length).toBeGreaterThan(0);
      const { instance: _own, ...rest } = r.body;
      expect(JSON.stringify(rest)).not.toMatch(/race-|c-1/); // no other guest's data
    }

    // The events: each night of the window is held by exactly one placed reservation.
    const placed = await rows<{ stream_id: string; data: unknown }>(
      "SELECT stream_id, data FROM events WHERE event_type = 'ReservationPlaced'",
    );
    const holders = new Map<string, string[]>();
    for (const e of placed) {
      const data = (typeof e.data === 'string' ? JSON.parse(e.data) : e.data) as {
        checkIn: string;
        checkOut: string;
      };
      for (let d = 0; d < WINDOW; d++) {
        if (night(d) >= data.checkIn && night(d) < data.checkOut) {
          holders.set(night(d), [...(holders.get(night(d)) ?? []), e.stream_id]);
        }
      }
    }
    const perNight = Array.from({ length: WINDOW }, (_, d) => holders.get(night(d))?.length ?? 0);
    expect(perNight).toEqual(Array<number>(WINDOW).fill(1));
    expect(placed).toHaveLength(winners);
    // The claims: the same holders, one row per night.
    const claims = await rows<{ claim_key: string; owner_stream_id: string }>(
      "SELECT claim_key, owner_stream_id FROM claims WHERE scope = 'room-night' ORDER BY claim_key",
    );
    expect(claims.map((c) => [c.claim_key, c.owner_stream_id])).toEqual(
      Array.from({ length: WINDOW }, (_, d) => [`room-1/${night(d)}`, holders.get(night(d))![0]]),
    );
    process.stdout.write(
      `room calendar race: ${ATTEMPTS} attempts over 2 processes, ${winners} placed, ` +
        `holders per night ${JSON.stringify(perNight)}, ${elapsedMs} ms\n`,
    );

    // Cancel frees the nights at once.
    const first = holders.get(night(0))![0]!;
    const firstNights = claims.filter((c) => c.owner_stream_id === first).length;
    expect((await send(a.url, 'reservation', first, 'CancelReservation')).status).toBe(200);
    expect(
      (
        await send(
          b.url,
          'reservation',
          'again-1',
          'PlaceReservation',
          stay('room-1', 0, firstNights),
        )
      ).status,
    ).toBe(201);

    // Check-out frees the nights from the day of departure on (today is before 2031).
    const last = holders.get(night(WINDOW - 1))![0]!;
    const lastNights = claims.filter((c) => c.owner_stream_id === last).length;
    for (const command of ['ConfirmReservation', 'CheckInGuest', 'CheckOutGuest']) {
      expect((await send(b.url, 'reservation', last, command)).status).toBe(200);
    }
    const rebooked = await send(
      a.url,
      'reservation',
      'again-2',
      'PlaceReservation',
      stay('room-1', WINDOW - lastNights, lastNights),
    );
    expect(rebooked.status).toBe(201);
    const [confirmedOnce] = await rows<{ n: number }>(
      'SELECT COUNT(*) AS n FROM deadlines WHERE stream_id = ?',
      [last],
    );
    expect(Number(confirmedOnce!.n)).toBe(0); // confirming stopped its hold

    await Promise.all([a.stop(), b.stop()]);

    // The tables are derived from the log: wiped and rebuilt, they come back the same.
    const tables = async () => ({
      claims: await rows(
        'SELECT scope, claim_key, owner_stream_type, owner_stream_id FROM claims ORDER BY scope, claim_key',
      ),
      deadlines: await rows(
        'SELECT stream_type, stream_id, name, command FROM deadlines ORDER BY stream_id',
      ),
    });
    const live = await tables();
    expect(live.deadlines.length).toBeGreaterThan(0);
    await db.knex.raw('DELETE FROM claims');
    await db.knex.raw('DELETE FROM deadlines');
    await rebuildProcessTables(
      db.knex,
      new ProcessTablesBuilder(hotelAggregates, { reservationHold: 15 * 60_000 }),
    );
    expect(await tables()).toEqual(live);
  }, 90_000);

  it('a hold that falls due while every process is down expires once after a restart, freeing its nights', async () => {
    const holder = await launch({ RESERVATION_HOLD_MS: '300' });
    const room = { hotel: 'Grand', city: 'Porto', number: '8', roomType: 'single', capacity: 1 };
    await send(holder.url, 'room', 'room-2', 'RegisterRoom', { ...room, ratePerNight: 9_000 });
    await send(holder.url, 'customer', 'c-2', 'RegisterCustomer', { name: 'Bo', email: 'b@x.io' });
    expect(
      (
        await send(
          holder.url,
          'reservation',
          'held',
          'PlaceReservation',
          stay('room-2', 0, 3, 'c-2'),
        )
      ).status,
    ).toBe(201);
    await holder.kill9(); // before the hold runs out: nobody is left to fire it
    await new Promise((r) => setTimeout(r, 400));
    const [due] = await rows<{ n: number }>(
      'SELECT COUNT(*) AS n FROM deadlines WHERE due_at <= UTC_TIMESTAMP(6)',
    );
    expect(Number(due!.n)).toBe(1);

    const restarted = await launch();
    await waitUntil('the hold to expire', async () => {
      const r = await fetch(`${restarted.url}/aggregates/reservation/held`);
      return ((await r.json()) as { state: string }).state === 'expired';
    });
    const expiredEvents = await rows<{ n: number }>(
      "SELECT COUNT(*) AS n FROM events WHERE stream_id = 'held' AND event_type = 'ReservationExpired'",
    );
    expect(Number(expiredEvents[0]!.n)).toBe(1);
    expect(await rows("SELECT * FROM deadlines WHERE stream_id = 'held'")).toEqual([]);
    expect(
      (await send(restarted.url, 'reservation', 'held', 'ConfirmReservation')).body,
    ).toMatchObject({ status: 422, rule: 'lifecycle' });
    expect(
      (
        await send(
          restarted.url,
          'reservation',
          'after',
          'PlaceReservation',
          stay('room-2', 0, 3, 'c-2'),
        )
      ).status,
    ).toBe(201);
    const metrics = await (await fetch(`${restarted.url}/metrics`)).text();
    expect(metrics.split('\n').filter((l) => l.startsWith('deadlines_fired_total'))).toEqual([
      'deadlines_fired_total{outcome="fired",service="command-service"} 1',
    ]);
  }, 60_000);
});
