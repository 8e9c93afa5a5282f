import { DomainRejectionError, uuidV7 } from '@cqrs/core';
import { nightsOf } from '@cqrs/hotel';
import { benchDatabase, type Benchmark, type BenchContext } from './context';
import {
  closedLoop,
  Latencies,
  plannedComparisonMs,
  round,
  throughputRow,
  timedAb,
  type ResultRow,
} from './harness';
import { idSource, inProcessPath, poolFor } from './r1-commands';

/**
 * The room calendar's cost (docs/room-calendar.md):
 * - CAL1: PlaceReservation (two strong reads, the append with its claim rows) against
 *   RegisterCustomer (the plain append), same runtime, same run, alternating rounds. Each
 *   worker books its own room on nights no one else wants, so nothing is refused: the ratio
 *   is what the calendar adds to the hot path.
 * - CAL2: 64 PlaceReservation at once on overlapping stays of one room, several rounds:
 *   latency percentiles, and whether every night ended with exactly one holder.
 */
const CONCURRENCY = 32;
const RACERS = 64;

const DAY_MS = 86_400_000;
const day = (n: number) => new Date(Date.UTC(2030, 0, 1) + n * DAY_MS).toISOString().slice(0, 10);

export const roomCalendar: Benchmark = {
  name: 'Room calendar',
  rows: [
    {
      id: `CAL1@c${CONCURRENCY}`,
      unit: 'commands/s',
      target: 'ratio >= 0.8 vs RegisterCustomer',
    },
    { id: `CAL2@race${RACERS}`, unit: 'ms', target: 'one winner per night; p99 reported' },
  ],
  plannedMs: (quick) => plannedComparisonMs(quick) + (quick ? 3 : 10) * 1000 + 3000,
  async run(ctx: BenchContext): Promise<ResultRow[]> {
    const db = await benchDatabase(ctx, 'calendar');
    const path = inProcessPath(db.url, poolFor(CONCURRENCY));
    ctx.defer(() => path.close());
    const { runtime } = path;
    const send = (type: string, id: string, command: string, data: Record<string, unknown>) =>
      runtime.execute({
        aggregateType: type,
        aggregateId: id,
        command: { type: command, data },
        metadata: { correlationId: uuidV7(), actor: 'bench' },
      });
    await send('customer', 'guest', 'RegisterCustomer', {
      name: 'Bench Guest',
      email: 'guest@bench.example',
    });
    const registerRoom = (id: string) =>
      send('room', id, 'RegisterRoom', {
        hotel: 'Bench',
        city: 'Porto',
        number: id,
        roomType: 'double',
        capacity: 2,
        ratePerNight: 10_000,
      });
    for (let w = 0; w < CONCURRENCY; w++) await registerRoom(`cal1-${w}`);

    // CAL1: each worker its own room, the next two nights of it each time.
    const nextNight = new Array<number>(CONCURRENCY).fill(0);
    const nextId = idSource(`cal${Date.now().toString(36)}`);
    const place = async (w: number) => {
      const from = nextNight[w]!;
      nextNight[w] = from + 2;
      await send('reservation', nextId('p'), 'PlaceReservation', {
        customerId: 'guest',
        roomId: `cal1-${w}`,
        checkIn: day(from),
        checkOut: day(from + 2),
        guests: 1,
      });
    };
    const loop = (op: (w: number) => Promise<void>, durationMs: number) =>
      closedLoop({
        concurrency: CONCURRENCY,
        durationMs,
        op,
        onProgress: (n) => ctx.progress.tick(n),
      });
    const register = () => path.registerCustomer(nextId('c'));
    const totals = await timedAb({
      label: 'CAL1',
      quick: ctx.quick,
      progress: ctx.progress,
      ours: (ms) => loop(place, ms),
      baseline: (ms) => loop(register, ms),
    });
    const rows = [
      throughputRow(`CAL1@c${CONCURRENCY}`, 'commands/s', 0.8, totals, {
        concurrency: CONCURRENCY,
        ours: 'PlaceReservation, 2 nights, own room per worker',
        baseline: 'RegisterCustomer on a new customer (same runtime)',
      }),
    ];

    // CAL2: 64 overlapping attempts at once on a fresh room, a few rounds.
    const latencies = new Latencies();
    const rounds = ctx.quick ? 3 : 10;
    let winners = 0;
    let badNights = 0;
    for (let r = 0; r < rounds; r++) {
      ctx.progress.phase(`CAL2 round ${r + 1}/${rounds}`);
      const roomId = `cal2-${r}`;
      await registerRoom(roomId);
      const results = await Promise.all(
        Array.from({ length: RACERS }, async (_, i) => {
          const nights = 1 + (i % 3);
          const from = (i * 7) % (10 - nights + 1);
          const t0 = performance.now();
          try {
            await send('reservation', `${roomId}-r${i}`, 'PlaceReservation', {
              customerId: 'guest',
              roomId,
              checkIn: day(from),
              checkOut: day(from + nights),
              guests: 1,
            });
            return { won: true, from, nights };
          } catch (err) {
            if (!(err instanceof DomainRejectionError) || err.rule !== 'room-available') throw err;
            return { won: false, from, nights };
          } finally {
            latencies.add(performance.now() - t0);
            ctx.progress.tick(1);
          }
        }),
      );
      const holders = new Map<string, number>();
      for (const w of results.filter((x) => x.won)) {
        winners++;
        for (const n of nightsOf(day(w.from), day(w.from + w.nights))) {
          holders.set(n, (holders.get(n) ?? 0) + 1);
        }
      }
      const [claims] = (await db.knex.raw(
        "SELECT COUNT(*) AS n FROM claims WHERE scope = 'room-night' AND claim_key LIKE ?",
        [`${roomId}/%`],
      )) as [{ n: number | string }[]];
      // Every night of the 10 must be held once (the one-night attempts cover them all), and
      // the claims table must say the same.
      for (let d = 0; d < 10; d++) if (holders.get(day(d)) !== 1) badNights++;
      if (Number(claims[0]!.n) !== 10) badNights++;
    }
    const p = latencies.percentiles();
    rows.push({
      id: `CAL2@race${RACERS}`,
      ours: p.p99,
      baseline: null,
      unit: 'ms',
      ratio: null,
      target: 'one winner per night; p99 reported',
      met: badNights === 0,
      ...p,
      details: {
        rounds,
        attempts: rounds * RACERS,
        winners,
        nightsNotHeldExactlyOnce: badNights,
        winnersPerRound: round(winners / rounds, 1),
      },
    });
    return rows;
  },
};
