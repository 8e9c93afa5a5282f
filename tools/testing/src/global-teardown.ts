import { stackDown } from '../../stack/stack';
import type { ServiceName } from '../../stack/state';

/** Stops what the global setup started, unless STACK_KEEP=1 asks to keep it for the next run. */
export default async function globalTeardown(): Promise<void> {
  const started = (globalThis as { __STACK_STARTED__?: ServiceName[] }).__STACK_STARTED__ ?? [];
  if (started.length === 0 || process.env.STACK_KEEP === '1') return;
  await stackDown((m) => process.stderr.write(`[stack] ${m}\n`), started);
}
