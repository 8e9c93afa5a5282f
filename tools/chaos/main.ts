import { stackUp } from '@cqrs/stack';
import { runChaos } from './chaos';

/**
 * `npm run chaos`: the full schedule by default (5 min of load, a fault every 15 s, the
 * server-wide faults included, 2 instances of each app). CHAOS_LOAD_S, CHAOS_FAULT_EVERY_S, CHAOS_INSTANCES,
 * CHAOS_WORKERS, CHAOS_GLOBAL_FAULTS=0 (only faults scoped to this run: kill -9, its own
 * MySQL connections, its vhost's AMQP connections). Prints one summary line; exit 1 on any
 * discrepancy.
 */
async function main(): Promise<void> {
  const num = (name: string, def: number) => Number(process.env[name] ?? def);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  await stackUp((m) => process.stderr.write(`[stack] ${m}\n`));
  const report = await runChaos({
    loadMs: num('CHAOS_LOAD_S', 300) * 1000,
    faultEveryMs: num('CHAOS_FAULT_EVERY_S', 15) * 1000,
    instances: num('CHAOS_INSTANCES', 2),
    workers: num('CHAOS_WORKERS', 8),
    globalFaults: process.env.CHAOS_GLOBAL_FAULTS !== '0',
    convergeMs: num('CHAOS_CONVERGE_S', 120) * 1000,
    log: say,
  });
  say(report.summary);
  process.exit(report.ok ? 0 : 1);
}

void main().catch((err: unknown) => {
  process.stderr.write(`chaos: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
