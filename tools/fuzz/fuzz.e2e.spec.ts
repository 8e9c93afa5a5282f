import { runFuzz } from './fuzz';

/**
 * The fuzz suite's short run, in every `npm test`: ~2000 generated requests (valid and
 * hostile, half each) over every route of both HTTP apps, run as processes on the real
 * services. A finding fails with the request and the FUZZ_SEED that replays it
 * (`npm run fuzz`).
 */
jest.setTimeout(300_000);

it('answers ~2000 generated and hostile requests within the contract: no 5xx, problem+json errors, no hang, no crash', async () => {
  const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const report = await runFuzz({
    seed,
    runs: Number(process.env.FUZZ_RUNS ?? 2000),
    timeLimitMs: 120_000,
  });
  process.stdout.write(`${report.summary}\n`);
  expect(report.failure ?? 'none').toBe('none');
  expect(report.requests).toBeGreaterThan(500);
  // The valid arm reaches the domain (about 3 in 4 get a 2xx): the generators still follow
  // the schemas and the domain's rules.
  const valid = Object.values(report.validByStatus).reduce((a, b) => a + b, 0);
  const reached = Object.entries(report.validByStatus)
    .filter(([status]) => status.startsWith('2'))
    .reduce((a, [, n]) => a + n, 0);
  expect(reached / valid).toBeGreaterThan(0.3);
});
