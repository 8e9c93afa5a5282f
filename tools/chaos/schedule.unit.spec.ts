import { runSchedule, type Clock } from './chaos';
import type { Fault } from './faults';

/** A clock that jumps: sleeping and injecting take virtual time only. */
function virtualClock(): Clock & { advance(ms: number): void } {
  let t = 0;
  return {
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

const fault = (name: string, takesMs = 0, clock?: { advance(ms: number): void }): Fault => ({
  name,
  scoped: true,
  async inject() {
    clock?.advance(takesMs);
  },
});

describe('the chaos fault schedule', () => {
  it('injects every kind once before any twice, one slot each', async () => {
    const clock = virtualClock();
    const at: number[] = [];
    const faults = ['a', 'b', 'c'].map((n) => fault(n));
    const injected = await runSchedule(
      faults,
      { loadMs: 100_000, faultEveryMs: 15_000 },
      async (f) => {
        at.push(clock.now());
        await f.inject({} as never, 0);
      },
      clock,
    );
    expect(injected).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    expect(at).toEqual([15_000, 30_000, 45_000, 60_000, 75_000, 90_000]);
  });

  it('shortens the interval so that every kind has a slot within the load', async () => {
    const clock = virtualClock();
    const faults = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].map((n) => fault(n));
    const injected = await runSchedule(
      faults,
      { loadMs: 60_000, faultEveryMs: 15_000 },
      (f) => f.inject({} as never, 0),
      clock,
    );
    expect(injected).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']);
  });

  it('catches up after a long fault (no overlap) and starts none after the load', async () => {
    const clock = virtualClock();
    const at: Array<[string, number]> = [];
    const faults = [
      fault('kill', 0, clock),
      fault('es restart', 50_000, clock),
      fault('rabbit restart', 15_000, clock),
      fault('stall', 3_000, clock),
    ];
    const injected = await runSchedule(
      faults,
      { loadMs: 120_000, faultEveryMs: 15_000 },
      async (f) => {
        at.push([f.name, clock.now()]);
        await f.inject({} as never, 0);
      },
      clock,
    );
    expect(at).toEqual([
      ['kill', 15_000],
      ['es restart', 30_000],
      ['rabbit restart', 80_000], // due at 45 000, after the restart ended
      ['stall', 95_000], // due at 60 000
      ['kill', 98_000], // due at 75 000
      ['es restart', 98_000], // due at 90 000
    ]);
    expect(injected).toHaveLength(6); // the next was due at 105 000, the load ended at 120 000 meanwhile
  });
});
