import { pollPause } from './poll-pause';

describe('pollPause', () => {
  it('probes at the minimum while rows keep coming', () => {
    expect(pollPause(0, 5, 50)).toBe(5);
    expect(pollPause(80, 5, 50)).toBe(5);
  });

  it('backs off with the idle time, up to the maximum', () => {
    expect(pollPause(400, 5, 50)).toBe(20);
    expect(pollPause(1000, 5, 50)).toBe(50);
    expect(pollPause(3_600_000, 5, 50)).toBe(50);
  });

  it('never goes below a maximum set under the minimum', () => {
    expect(pollPause(0, 20, 10)).toBe(10);
  });
});
