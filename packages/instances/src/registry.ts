import type { Knex } from 'knex';

export interface InstanceRecord {
  readonly id: string;
  readonly app: string;
  readonly role: string | null;
  readonly url: string | null;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: string;
  /** Seconds since the last heartbeat, by the database's clock. */
  readonly lastSeenSecondsAgo: number;
}

interface InstanceRow {
  id: string;
  app: string;
  role: string | null;
  url: string | null;
  host: string;
  pid: number | string;
  started_at: Date | string;
  age_us: number | string;
}

/** Every registered instance, by app then start time (the registry's rows, not a probe). */
export async function listInstances(knex: Knex): Promise<InstanceRecord[]> {
  const [rows] = (await knex.raw(
    `SELECT id, app, role, url, host, pid, started_at,
            TIMESTAMPDIFF(MICROSECOND, last_seen_at, UTC_TIMESTAMP(6)) AS age_us
       FROM instances ORDER BY app, started_at, id`,
  )) as [InstanceRow[]];
  return rows.map((r) => ({
    id: r.id,
    app: r.app,
    role: r.role,
    url: r.url,
    host: r.host,
    pid: Number(r.pid),
    startedAt: new Date(r.started_at).toISOString(),
    lastSeenSecondsAgo: Math.max(0, Number(r.age_us) / 1e6),
  }));
}
