import pino, { type Logger } from 'pino';

/**
 * JSON logs (pino) with the service name on every line. An unknown level falls back to
 * `info`, so that config validation (not pino) reports a bad LOG_LEVEL.
 */
export function createLogger(name: string, level = 'info'): Logger {
  const valid = level === 'silent' || level in pino.levels.values;
  return pino({ name, level: valid ? level : 'info', base: { service: name } });
}
