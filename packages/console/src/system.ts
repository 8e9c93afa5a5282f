import { listInstances, type InstanceRecord } from '@cqrs/instances';
import { outboxStats, type OutboxStats } from '@cqrs/outbox';
import type { Knex } from 'knex';
import type { QueryAdminClient } from './query-admin';
import { queueStats, type QueueStats } from './rabbitmq-management';

export interface InstanceHealth {
  /** `ok` / `unavailable` as its /health says; `unreachable`: no answer; `stale`: no heartbeat. */
  readonly status: 'ok' | 'unavailable' | 'unreachable' | 'stale';
  readonly checks: Readonly<Record<string, { status: string; detail?: string }>>;
  readonly detail: string | null;
}

export interface InstanceView extends InstanceRecord {
  readonly health: InstanceHealth;
}

export interface QueueView extends QueueStats {
  /** Seconds since the oldest event this queue's consumer has not applied was committed. */
  readonly lagSeconds: number | null;
}

export interface ProjectorView {
  readonly checkpoint: string;
  readonly checkpointAt: string | null;
}

export interface DeadlineStats {
  readonly scheduled: number;
  /** Due now or earlier, not fired yet. */
  readonly due: number;
  /** Due for more than `overdueAfterSeconds`: nothing is firing them. */
  readonly overdue: number;
  readonly overdueAfterSeconds: number;
}

/** One section that could not be read shows its reason instead of failing the page. */
export type Section<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export interface SystemOverview {
  readonly at: string;
  readonly instances: Section<readonly InstanceView[]>;
  readonly outbox: Section<OutboxStats>;
  readonly queues: Section<readonly QueueView[]>;
  readonly projector: Section<ProjectorView>;
  /** null: the event store has no `deadlines` table (no durable deadlines in this version). */
  readonly deadlines: Section<DeadlineStats | null>;
}

export interface SystemSources {
  readonly knex: Knex;
  readonly managementUrl: string;
  readonly vhost: string;
  readonly queryAdmin: QueryAdminClient;
  /** Queues whose consumer is the query-service projector (their lag in seconds is known). */
  readonly isProjectorQueue: (name: string) => boolean;
  /** A heartbeat older than this marks an instance stale (default 15 s: three beats). */
  readonly staleAfterSeconds?: number;
  readonly overdueAfterSeconds?: number;
}

/** What runs and how far behind it is, each part read side by side and failing alone. */
export async function systemOverview(src: SystemSources): Promise<SystemOverview> {
  const projectorP = section(() =>
    src.queryAdmin
      .get<{ projections: { checkpoint: string; checkpointAt: string | null }[] }>(
        '/admin/projections',
      )
      .then(({ projections }) => ({
        checkpoint: projections[0]?.checkpoint ?? '0',
        checkpointAt: projections[0]?.checkpointAt ?? null,
      })),
  );
  const [instances, outbox, queues, projector, deadlines] = await Promise.all([
    section(() => instancesWithHealth(src.knex, src.staleAfterSeconds ?? 15)),
    section(() => outboxStats(src.knex)),
    section(async () => {
      const stats = await queueStats(src.managementUrl, src.vhost);
      const p = await projectorP;
      return lagOfQueues(src.knex, stats, src.isProjectorQueue, p.ok ? p.value.checkpoint : null);
    }),
    projectorP,
    section(() => deadlineStats(src.knex, src.overdueAfterSeconds ?? 60)),
  ]);
  return { at: new Date().toISOString(), instances, outbox, queues, projector, deadlines };
}

async function section<T>(read: () => Promise<T>): Promise<Section<T>> {
  try {
    return { ok: true, value: await read() };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

async function instancesWithHealth(knex: Knex, staleAfterSeconds: number): Promise<InstanceView[]> {
  const instances = await listInstances(knex);
  return Promise.all(
    instances.map(async (i) => ({
      ...i,
      health:
        i.lastSeenSecondsAgo > staleAfterSeconds
          ? {
              status: 'stale' as const,
              checks: {},
              detail: `no heartbeat for ${Math.round(i.lastSeenSecondsAgo)} s`,
            }
          : await probeHealth(i.url),
    })),
  );
}

/** GET <url>/health with a short timeout: its own verdict, or why there was none. */
export async function probeHealth(url: string | null): Promise<InstanceHealth> {
  if (!url) return { status: 'unreachable', checks: {}, detail: 'no URL registered' };
  try {
    const res = await fetch(new URL('/health', url), { signal: AbortSignal.timeout(2500) });
    const body = (await res.json()) as { status?: string; checks?: InstanceHealth['checks'] };
    return {
      status: res.status === 200 && body.status === 'ok' ? 'ok' : 'unavailable',
      checks: body.checks ?? {},
      detail: res.status === 200 ? null : `HTTP ${res.status}`,
    };
  } catch (err) {
    return { status: 'unreachable', checks: {}, detail: (err as Error).message };
  }
}

/**
 * Lag in seconds of the projector's queues: the age of the first event after the projector's
 * checkpoint (0 when its queue is empty). Other consumers' checkpoints are not known here.
 */
async function lagOfQueues(
  knex: Knex,
  queues: readonly QueueStats[],
  isProjectorQueue: (name: string) => boolean,
  checkpoint: string | null,
): Promise<QueueView[]> {
  let oldestUnapplied: number | null | undefined;
  const age = async () => {
    if (oldestUnapplied !== undefined || checkpoint === null) return oldestUnapplied ?? null;
    const [rows] = (await knex.raw(
      `SELECT TIMESTAMPDIFF(MICROSECOND, occurred_at, UTC_TIMESTAMP(6)) AS age_us
         FROM events WHERE position > ? ORDER BY position LIMIT 1`,
      [checkpoint],
    )) as [{ age_us: number | string }[]];
    oldestUnapplied = rows[0] ? Math.max(0, Number(rows[0].age_us) / 1e6) : 0;
    return oldestUnapplied;
  };
  const out: QueueView[] = [];
  for (const q of queues) {
    let lagSeconds: number | null = null;
    if (isProjectorQueue(q.name)) lagSeconds = q.messages === 0 ? 0 : await age();
    out.push({ ...q, lagSeconds });
  }
  return out;
}

async function deadlineStats(
  knex: Knex,
  overdueAfterSeconds: number,
): Promise<DeadlineStats | null> {
  if (!(await knex.schema.hasTable('deadlines'))) return null;
  const [rows] = (await knex.raw(
    `SELECT COUNT(*) AS scheduled,
            COALESCE(SUM(due_at <= UTC_TIMESTAMP(6)), 0) AS due,
            COALESCE(SUM(due_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND), 0) AS overdue
       FROM deadlines`,
    [overdueAfterSeconds],
  )) as [{ scheduled: number | string; due: number | string; overdue: number | string }[]];
  const r = rows[0];
  return {
    scheduled: Number(r?.scheduled ?? 0),
    due: Number(r?.due ?? 0),
    overdue: Number(r?.overdue ?? 0),
    overdueAfterSeconds,
  };
}
