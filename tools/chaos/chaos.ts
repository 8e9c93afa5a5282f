import {
  AppProcess,
  createTestDatabase,
  createTestIndexPrefix,
  createTestVhost,
  type TestVhost,
} from '@cqrs/testing';
import { FAULTS, type Fault, type FaultContext } from './faults';
import { CommandLoad } from './load';
import { total, verify, type Discrepancies } from './verify';

export interface ChaosOptions {
  /** How long the load runs, faults included. */
  readonly loadMs: number;
  /**
   * A fault every this long, in the order of FAULTS (cycling); shorter when the load would
   * not give every kind a slot.
   */
  readonly faultEveryMs: number;
  /** Instances of each app. */
  readonly instances: number;
  /** Also the faults that hit the whole server (global read lock, broker restart, ES freeze). */
  readonly globalFaults: boolean;
  readonly workers: number;
  /** How long the system may take to converge after the load, at most. */
  readonly convergeMs: number;
  readonly log?: (line: string) => void;
}

export interface ChaosReport {
  readonly ok: boolean;
  readonly summary: string;
  readonly discrepancies: Discrepancies;
  /** The fault kinds of the schedule that the load ended before (none in a good run). */
  readonly missedFaults: readonly string[];
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}
const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

/**
 * The fault schedule: fault n at (n + 1) x `every` after the load starts, in the order of
 * `faults`, so every kind once before any twice. `every` is at most loadMs / (kinds + 1), so
 * that each kind has a slot within the load. Faults never overlap: one that runs long (an
 * Elasticsearch restart) delays the next, which then come at once until the schedule is
 * back on time; none starts after the load. Returns the names of the faults injected.
 */
export async function runSchedule(
  faults: readonly Fault[],
  opts: { readonly loadMs: number; readonly faultEveryMs: number },
  inject: (fault: Fault, n: number) => Promise<void>,
  clock: Clock = realClock,
): Promise<string[]> {
  const start = clock.now();
  const every = Math.min(opts.faultEveryMs, opts.loadMs / (faults.length + 1));
  const injected: string[] = [];
  for (let n = 0; faults.length > 0; n++) {
    const due = start + (n + 1) * every;
    if (due >= start + opts.loadMs) break;
    await clock.sleep(Math.max(0, due - clock.now()));
    if (clock.now() - start >= opts.loadMs) break; // the faults before ran past the load
    const fault = faults[n % faults.length]!;
    await inject(fault, n);
    injected.push(fault.name);
  }
  return injected;
}

/** Events waiting in (or taken from and not yet acknowledged by) the projector queues. */
async function projectorBacklog(vhost: TestVhost): Promise<number> {
  const depths = await vhost.queueDepths();
  return Object.entries(depths)
    .filter(([name]) => !name.endsWith('.dlq'))
    .reduce((sum, [, n]) => sum + n, 0);
}

/**
 * The chaos suite: the three apps as processes (`instances` of each) on a database, vhost
 * and index prefix of their own; a closed loop of mixed commands; faults on a schedule; then
 * the verifier, until the system converges or `convergeMs` passes.
 */
export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const log = opts.log ?? (() => undefined);
  const faults = FAULTS.filter((f) => f.scoped || opts.globalFaults);
  const cannot = faults.flatMap((f) => f.precondition?.() ?? []);
  if (cannot.length > 0) throw new Error(`chaos: cannot run: ${cannot.join('; ')}`);
  const [db, vhost, es] = await Promise.all([
    createTestDatabase('chaos'),
    createTestVhost('chaos'),
    createTestIndexPrefix('chaos'),
  ]);
  const env = {
    MYSQL_URL: db.url,
    AMQP_URL: vhost.url,
    INDEX_PREFIX: es.prefix,
    LOG_LEVEL: 'error',
    IDEMPOTENCY_LEASE_MS: '3000',
  };
  const all: AppProcess[] = [];
  try {
    // Each instance on a port of its own; the relays compete for the leader lock, the
    // query-services share the partitioned queues (PROJECTOR_PARTITIONS, default 4).
    const startEach = async (name: 'command-service' | 'outbox-relay' | 'query-service') => {
      // The query-services log warnings too: a projector retrying a batch says why.
      const own = name === 'query-service' ? { ...env, LOG_LEVEL: 'warn' } : env;
      const apps = await Promise.all(
        Array.from({ length: opts.instances }, () => AppProcess.start(name, own)),
      );
      all.push(...apps);
      return apps;
    };
    const commands = await startEach('command-service');
    const [relays, queries] = await Promise.all([
      startEach('outbox-relay'),
      startEach('query-service'),
    ]);
    const url = new URL(db.url);
    const ctx: FaultContext = {
      commands,
      relays,
      queries,
      database: url.pathname.slice(1),
      vhost: vhost.vhost,
      restarts: new Map(),
      log,
      mysqlAdminUrl: `${url.protocol}//${url.username}${url.password ? `:${url.password}` : ''}@${url.host}/`,
    };
    const load = new CommandLoad(commands);
    await load.prepare();
    log(`chaos: ${opts.instances} instance(s) of each app up; load for ${opts.loadMs / 1000} s`);

    const loadStart = Date.now();
    const scheduler = runSchedule(faults, opts, async (fault, n) => {
      log(`chaos: t+${((Date.now() - loadStart) / 1000).toFixed(0)}s ${fault.name}`);
      await fault.inject(ctx, n);
    });
    await load.run(opts.workers, () => Date.now() - loadStart > opts.loadMs);
    const injected = await scheduler;
    const missedFaults = faults.map((f) => f.name).filter((name) => !injected.includes(name));
    await Promise.all(ctx.restarts.values());
    const loadSeconds = (Date.now() - loadStart) / 1000;
    const crashes = all.flatMap((a) => a.crashes);

    // Converge: every check at zero, or the deadline. The full check reads every event and
    // every document (and refreshes the indices): run back to back it takes the CPU the
    // projectors drain with. So it runs when the projector queues look drained, and every
    // 10 s while they do not (which also shows what is left).
    const settleStart = Date.now();
    const elapsed = () => `t+${((Date.now() - settleStart) / 1000).toFixed(0)}s`;
    let found = await verify(db.url, es.client, es.prefix, load.stats.acked);
    let checkedAt = Date.now();
    while (total(found) > 0 && Date.now() - settleStart < opts.convergeMs) {
      await new Promise((r) => setTimeout(r, 1000));
      const queued = await projectorBacklog(vhost).catch(() => -1);
      if (queued > 0 && Date.now() - checkedAt < 10_000) continue;
      found = await verify(db.url, es.client, es.prefix, load.stats.acked);
      checkedAt = Date.now();
      log(
        `chaos:   converging ${elapsed()}: ${queued >= 0 ? `${queued} events queued, ` : ''}` +
          `events index off by ${found.eventsIndexOff}, stale read models ${found.staleReadModels}, ` +
          `stale joins ${found.staleJoins}, outbox left ${found.outbox}`,
      );
    }
    const convergedS = (Date.now() - settleStart) / 1000;
    const { stats } = load;
    const ok = total(found) === 0 && stats.serverErrors.length === 0 && crashes.length === 0;
    const summary =
      `chaos: ${ok ? 'ok' : 'FAILED'} - ${stats.acked.length} commands acknowledged in ` +
      `${loadSeconds.toFixed(0)} s (${(stats.acked.length / loadSeconds).toFixed(0)}/s, ` +
      `${opts.workers} clients, ${opts.instances} instance(s) per app), ${injected.length} faults, ` +
      `kinds ${faults.length - missedFaults.length}/${faults.length} ` +
      `(${[...new Set(injected)].join('; ')}${missedFaults.length ? `; not injected: ${missedFaults.join('; ')}` : ''}); ` +
      `${ok ? `converged in ${convergedS.toFixed(1)} s` : `after ${convergedS.toFixed(1)} s`}: ` +
      `lost ${found.lost}, streams with gaps/duplicates ${found.gappedStreams}, events index off by ${found.eventsIndexOff}, ` +
      `stale read models ${found.staleReadModels}, stale joins ${found.staleJoins}, outbox left ${found.outbox}; ` +
      `refused ${stats.refused}, retried ${stats.retries}, unacknowledged ${stats.gaveUp}, ` +
      `5xx ${stats.serverErrors.length}, crashes ${crashes.length}`;
    if (stats.serverErrors.length > 0)
      log(`chaos: 5xx seen: ${stats.serverErrors.slice(0, 5).join('\n')}`);
    if (crashes.length > 0) log(`chaos: crashes: ${crashes.join('\n')}`);
    if (!ok) {
      // What the query-services said last (warnings and up): a stalled projector shows there.
      for (const [i, q] of queries.entries())
        log(`chaos: --- query-service ${i + 1}, last output:\n${q.output().slice(-3000)}`);
    }
    return { ok, summary, discrepancies: found, missedFaults };
  } finally {
    await Promise.all(all.map((a) => a.stop()));
    await Promise.all([db.drop(), vhost.drop(), es.drop()]);
  }
}
