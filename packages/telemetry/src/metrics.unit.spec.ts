import { Counter, Histogram, Registry } from 'prom-client';
import { FastCounter, FastHistogram } from './index';

describe('FastCounter and FastHistogram', () => {
  it("print exactly what prom-client's Counter and Histogram print for the same observations", async () => {
    const [theirs, ours] = [new Registry(), new Registry()];
    for (const r of [theirs, ours]) r.setDefaultLabels({ service: 'test' });
    const histogram = {
      name: 'request_seconds',
      help: 'Request time',
      labelNames: ['method', 'route'] as const,
      buckets: [0.001, 0.01, 0.1],
    };
    const counter = { name: 'things_total', help: 'Things', labelNames: ['outcome'] as const };
    const h = new Histogram({ ...histogram, registers: [theirs] });
    const c = new Counter({ ...counter, registers: [theirs] });
    const fh = new FastHistogram({ ...histogram, registers: [ours] });
    const fc = new FastCounter({ ...counter, registers: [ours] });

    for (const [method, route, seconds] of [
      ['POST', '/a', 0.0005],
      ['POST', '/a', 0.001], // on a bound: counted in it
      ['POST', '/a', 0.05],
      ['POST', '/a', 3], // above every bound: +Inf only
      ['GET', '/b "q"', 0.02], // a value the exposition escapes
    ] as const) {
      h.observe({ method, route }, seconds);
      fh.series(method, route).observe(seconds);
    }
    c.inc({ outcome: 'accepted' });
    c.inc({ outcome: 'accepted' }, 2);
    c.inc({ outcome: 'rejected' });
    fc.series('accepted').inc();
    fc.series('accepted').inc(2);
    fc.series('rejected').inc();

    expect(await ours.metrics()).toBe(await theirs.metrics());
    ours.resetMetrics();
    theirs.resetMetrics();
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('refuses a value that is not a finite number, like prom-client', () => {
    const fh = new FastHistogram({
      name: 'x_seconds',
      help: 'x',
      labelNames: [],
      buckets: [1],
      registers: [],
    });
    expect(() => fh.series().observe(Number.NaN)).toThrow(TypeError);
  });
});
