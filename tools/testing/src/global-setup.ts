// Jest loads the global setup outside its module map: the stack's face by its path.
import { stackUp } from '../../stack';

/**
 * Jest global setup of the integration project: brings the stack up once per run (using
 * what already runs) and remembers what it started, so the teardown stops only that.
 */
export default async function globalSetup(): Promise<void> {
  const log = (m: string) => process.stderr.write(`[stack] ${m}\n`);
  const started = await stackUp(log);
  (globalThis as { __STACK_STARTED__?: string[] }).__STACK_STARTED__ = started.map(
    (s) => s.service,
  );
}
