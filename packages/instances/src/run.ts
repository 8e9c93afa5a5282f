import { createLogger, exitOnStartupError, onShutdown } from '@cqrs/http';
import { startTracing } from '@cqrs/telemetry';
import type { Logger } from 'pino';
import { startHeartbeat } from './heartbeat';

/** What every app's process needs of its configuration. */
export interface InstanceConfig {
  readonly mysqlUrl: string;
  readonly host: string;
  readonly port: number;
}

/** A started app: its HTTP server (not listening yet) and how to stop the rest of it. */
export interface RunningApp {
  readonly app: { listen(opts: { port: number; host: string }): Promise<unknown> };
  close(): Promise<void>;
}

export interface RunInstanceOptions<C extends InstanceConfig, S extends RunningApp> {
  /** The app's name: its logger, spans, registry row and shutdown step. */
  readonly name: string;
  /** Record spans (default true; exported only when OTEL_TRACES_EXPORTER is set). */
  readonly tracing?: boolean;
  /** Reads the environment (`readConfig`): a ConfigError lists every bad variable. */
  readonly config: () => C;
  /** The composition: wires the app from its configuration. */
  readonly start: (config: C, log: Logger) => Promise<S>;
  /** The instance's role in the registry, read at every beat (e.g. the relay's leader/standby). */
  readonly role?: (service: S, config: C) => string | undefined;
}

/**
 * The life of an app's process around its composition: logger, tracing, configuration,
 * start, the registry row, listening; on SIGTERM/SIGINT it drains (registry row, app,
 * tracing) and exits 0, 1 when a step fails or takes too long; a startup error is logged
 * and exits 1.
 */
export async function runInstance<C extends InstanceConfig, S extends RunningApp>(
  opts: RunInstanceOptions<C, S>,
): Promise<void> {
  const log = createLogger(opts.name, process.env.LOG_LEVEL);
  try {
    // Before anything else, so every span of this process is recorded (off unless
    // OTEL_TRACES_EXPORTER is set).
    const tracing = opts.tracing === false ? undefined : startTracing(opts.name);
    const config = opts.config();
    const service = await opts.start(config, log);
    const { role } = opts;
    const instance = startHeartbeat({
      app: opts.name,
      mysqlUrl: config.mysqlUrl,
      host: config.host,
      port: config.port,
      ...(role ? { role: () => role(service, config) } : {}),
      logger: log,
    });
    onShutdown(log, [
      ['instance', () => instance.stop()],
      [opts.name, () => service.close()],
      ...(tracing ? [['tracing', () => tracing.shutdown()] as const] : []),
    ]);
    await service.app.listen({ port: config.port, host: config.host });
  } catch (err) {
    exitOnStartupError(log, err);
  }
}
