import { runChaos } from './chaos';

/**
 * The chaos suite's short schedule, in every `npm test`: a minute of mixed commands while the
 * apps are killed with -9, their MySQL connections killed and their AMQP connections closed
 * (CHAOS_GLOBAL_FAULTS=1 adds a global read lock, a broker restart, Elasticsearch stopped
 * and started, and frozen - not by default: they would hit the test files Jest runs
 * alongside). Then
 * every acknowledged command must be in MySQL, once, at its version, and every read model,
 * join and the events index must converge. The full schedule: `npm run chaos` (README).
 */
jest.setTimeout(400_000);

it('loses nothing under faults and converges: acknowledged = stored = indexed = projected', async () => {
  const report = await runChaos({
    loadMs: 60_000,
    faultEveryMs: 7_000,
    instances: Number(process.env.CHAOS_INSTANCES ?? 1),
    workers: 6,
    // Server-wide faults would also hit the test files Jest runs alongside this one.
    globalFaults: process.env.CHAOS_GLOBAL_FAULTS === '1',
    convergeMs: 90_000,
  });
  process.stdout.write(`${report.summary}\n`);
  expect({ ok: report.ok, summary: report.summary }).toEqual({
    ok: true,
    summary: expect.any(String),
  });
});
