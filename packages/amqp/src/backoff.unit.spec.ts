import { backoffDelay } from './backoff';

describe('backoffDelay', () => {
  const opts = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.2 };
  const middle = () => 0.5;

  it('doubles from the initial delay', () => {
    expect([1, 2, 3].map((a) => backoffDelay(a, opts, middle))).toEqual([100, 200, 400]);
  });

  it('never exceeds maxMs, even with the largest jitter', () => {
    for (let a = 1; a < 40; a++)
      expect(backoffDelay(a, opts, () => 0.999999)).toBeLessThanOrEqual(1000);
  });

  it('spreads delays by the jitter fraction', () => {
    expect(backoffDelay(1, opts, () => 0)).toBe(80);
    expect(backoffDelay(1, opts, () => 1)).toBe(120);
  });
});
