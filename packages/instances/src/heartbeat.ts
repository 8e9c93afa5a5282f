import { uuidV7 } from '@cqrs/core';
import { createKnex } from '@cqrs/event-store';
import { hostname } from 'node:os';
import type { Logger } from 'pino';

export interface HeartbeatOptions {
  /** The app's name, e.g. `query-service`. */
  readonly app: string;
  readonly mysqlUrl: string;
  /**
   * Where the instance serves `/health`: `url`, else `INSTANCE_URL`, else `http://<host>:<port>`
   * (127.0.0.1 when it listens on every interface).
   */
  readonly url?: string;
  readonly host?: string;
  readonly port?: number;
  /** The instance's current role, read at every beat (e.g. the relay's `leader`/`standby`). */
  readonly role?: () => string | undefined;
  /** Default `INSTANCE_HEARTBEAT_MS` or 5000. */
  readonly intervalMs?: number;
  readonly logger: Logger;
}

export interface Heartbeat {
  readonly id: string;
  /** Stops beating and removes the row: a clean stop leaves nothing to explain. */
  stop(): Promise<void>;
}

/** Rows not refreshed for this long belong to processes that died; any beat removes them. */
const PURGE_AFTER_SECONDS = 3600;

/**
 * Registers this process in the `instances` table and refreshes its row every few seconds
 * (the database's clock, so hosts with skewed clocks agree). A failed beat is logged and
 * the next one tries again: the registry informs operators, it never stops an app.
 */
export function startHeartbeat(opts: HeartbeatOptions): Heartbeat {
  const id = uuidV7();
  const knex = createKnex(opts.mysqlUrl, { poolMax: 1 });
  const log = opts.logger.child({ component: 'heartbeat', instance: id });
  const intervalMs = opts.intervalMs ?? (Number(process.env.INSTANCE_HEARTBEAT_MS) || 5000);
  const url =
    opts.url ??
    process.env.INSTANCE_URL ??
    (opts.port !== undefined ? `http://${reachable(opts.host)}:${opts.port}` : null);
  let failing = false;
  let stopped = false;

  const beat = async () => {
    try {
      await knex.raw(
        `INSERT INTO instances (id, app, role, url, host, pid, started_at, last_seen_at)
         VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))
         ON DUPLICATE KEY UPDATE role = VALUES(role), last_seen_at = UTC_TIMESTAMP(6)`,
        [id, opts.app, opts.role?.() ?? null, url, hostname(), process.pid],
      );
      await knex.raw(
        'DELETE FROM instances WHERE last_seen_at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND',
        [PURGE_AFTER_SECONDS],
      );
      if (failing) log.info('heartbeat recorded again');
      failing = false;
    } catch (err) {
      if (!failing) log.warn({ err }, 'heartbeat failed; retrying');
      failing = true;
    }
  };
  let running = beat();
  const timer = setInterval(() => {
    running = running.then(() => (stopped ? undefined : beat()));
  }, intervalMs);
  timer.unref();

  return {
    id,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await knex.raw('DELETE FROM instances WHERE id = ?', [id]).catch((err: unknown) => {
        log.warn({ err }, 'could not remove the instance row');
      });
      await knex.destroy();
    },
  };
}

/** An address to reach a server listening on `host`: the wildcard ones are reached locally. */
function reachable(host: string | undefined): string {
  if (!host || host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
