// Jest loads the global teardown outside its module map: the stack's face by its path.
import { stackDown, type ServiceName } from '../../stack';

/** Stops what the global setup started, unless STACK_KEEP=1 asks to keep it for the next run. */
export default async function globalTeardown(): Promise<void> {
  const started = (globalThis as { __STACK_STARTED__?: ServiceName[] }).__STACK_STARTED__ ?? [];
  if (started.length === 0 || process.env.STACK_KEEP === '1') return;
  await stackDown((m) => process.stderr.write(`[stack] ${m}\n`), started);
}
