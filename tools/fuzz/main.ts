import { stackUp } from '@cqrs/stack';
import { runFuzz } from './fuzz';

/**
 * `npm run fuzz`: FUZZ_SEED (default: random, printed), FUZZ_RUNS (default 10 000 requests),
 * FUZZ_TIME_MS (default 10 min). Uses the services that run (starts what is missing).
 * Exit 1 on any finding, with the request and the command that replays it.
 */
async function main(): Promise<void> {
  const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const runs = Number(process.env.FUZZ_RUNS ?? 10_000);
  const timeLimitMs = Number(process.env.FUZZ_TIME_MS ?? 600_000);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(
    `fuzz: seed ${seed}, up to ${runs} requests / ${timeLimitMs / 1000} s (replay: FUZZ_SEED=${seed})`,
  );
  await stackUp((m) => process.stderr.write(`[stack] ${m}\n`));
  const report = await runFuzz({ seed, runs, timeLimitMs, log: say });
  if (report.failure) say(report.failure);
  say(report.summary);
  process.exit(report.failure ? 1 : 0);
}

void main().catch((err: unknown) => {
  process.stderr.write(`fuzz: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
