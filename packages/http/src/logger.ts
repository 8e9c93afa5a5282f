import pino, { type Logger } from 'pino';

/** JSON logs (pino) with the service name on every line. */
export function createLogger(name: string, level = 'info'): Logger {
  return pino({ name, level, base: { service: name } });
}
