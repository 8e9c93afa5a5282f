import type { Logger } from 'pino';

/**
 * Runs `steps` in order on SIGTERM/SIGINT, then exits 0; a step that throws is logged and
 * the rest still run. A second signal, or steps taking longer than `timeoutMs`, exit 1.
 */
export function onShutdown(
  log: Logger,
  steps: ReadonlyArray<readonly [string, () => Promise<unknown>]>,
  timeoutMs = 15_000,
): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error({ timeoutMs }, 'shutdown timed out');
      process.exit(1);
    }, timeoutMs).unref();
    let failed = false;
    for (const [name, step] of steps) {
      try {
        await step();
      } catch (err) {
        failed = true;
        log.error({ err, step: name }, 'shutdown step failed');
      }
    }
    log.info('stopped');
    log.flush?.();
    process.exit(failed ? 1 : 0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

/** Logs a fatal startup error (e.g. a ConfigError listing every bad variable) and exits 1. */
export function exitOnStartupError(log: Logger, err: unknown): never {
  log.fatal({ err }, (err as Error).message);
  log.flush?.();
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}
