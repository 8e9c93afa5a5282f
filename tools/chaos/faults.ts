import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { stackDown, stackUp, startedHere } from '@cqrs/stack';
import type { AppProcess } from '@cqrs/testing';

const run = promisify(execFile);

export interface FaultContext {
  readonly commands: readonly AppProcess[];
  readonly relays: readonly AppProcess[];
  readonly queries: readonly AppProcess[];
  /** The run's own database (only its connections are killed) and vhost. */
  readonly database: string;
  readonly vhost: string;
  /** A server-level MySQL URL (no database) for the admin connection. */
  readonly mysqlAdminUrl: string;
  /** Processes coming back after a kill. */
  readonly restarts: Map<AppProcess, Promise<void>>;
  readonly log: (line: string) => void;
}

export interface Fault {
  readonly name: string;
  /** Touches only this run's processes, connections and vhost (safe on a shared machine). */
  readonly scoped: boolean;
  /** Why this fault cannot run here (checked before the run starts), or undefined. */
  precondition?(): string | undefined;
  inject(ctx: FaultContext, pick: number): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const killAndRestart = (role: 'commands' | 'relays' | 'queries'): Fault => ({
  name: `kill -9 ${role === 'commands' ? 'command-service' : role === 'relays' ? 'outbox-relay' : 'query-service'}`,
  scoped: true,
  async inject(ctx, pick) {
    const apps = ctx[role];
    // Of several relays, the leader (killing a standby changes nothing); else in turn.
    const leader = role === 'relays' ? await relayLeader(apps) : undefined;
    const victim = leader ?? apps[pick % apps.length]!;
    await ctx.restarts.get(victim); // never kill one that is still coming back
    await victim.kill9();
    // Restarting takes seconds (compiling TypeScript on a small machine): the schedule goes
    // on meanwhile, and the run waits for every restart before it verifies.
    ctx.restarts.set(
      victim,
      sleep(500).then(() => victim.start()),
    );
  },
});

/** The relay instance that holds the leader lock now, if one says so. */
async function relayLeader(relays: readonly AppProcess[]): Promise<AppProcess | undefined> {
  if (relays.length < 2) return undefined;
  for (const relay of relays) {
    const text = await fetch(`${relay.url}/metrics`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.text())
      .catch(() => '');
    if (/^outbox_relay_leader(?:\{[^}]*\})? 1$/m.test(text)) return relay;
  }
  return undefined;
}

/** Every MySQL connection of the apps at once (the relay's lock connection included). */
const killMysqlConnections: Fault = {
  name: 'kill every MySQL connection of the apps',
  scoped: true,
  async inject(ctx) {
    const admin = await mysql.createConnection(ctx.mysqlAdminUrl);
    try {
      const [rows] = await admin.query(
        'SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
        [ctx.database],
      );
      for (const { ID } of rows as { ID: number }[]) {
        await admin.query(`KILL ${Number(ID)}`).catch(() => undefined); // gone already
      }
    } finally {
      await admin.end();
    }
  },
};

const closeAmqpConnections: Fault = {
  name: 'close every RabbitMQ connection of the vhost',
  scoped: true,
  async inject(ctx) {
    await run('rabbitmqctl', ['close_all_connections', '-p', ctx.vhost, 'chaos']);
  },
};

/** A stalled database: a global read lock held for 3 s (every writer on the server waits). */
const stallMysql: Fault = {
  name: 'stall MySQL (global read lock, 3 s)',
  scoped: false,
  async inject(ctx) {
    const admin = await mysql.createConnection(ctx.mysqlAdminUrl);
    try {
      await admin.query('FLUSH TABLES WITH READ LOCK');
      await sleep(3000);
      await admin.query('UNLOCK TABLES');
    } finally {
      await admin.end();
    }
  },
};

const restartRabbit: Fault = {
  name: 'restart RabbitMQ',
  scoped: false,
  async inject() {
    await run('rabbitmqctl', ['stop_app']);
    await sleep(1000);
    await run('rabbitmqctl', ['start_app']);
    await run('rabbitmqctl', ['await_startup']);
  },
};

/** Elasticsearch frozen for 5 s (SIGSTOP/SIGCONT): requests hang, then resume. */
const freezeElasticsearch: Fault = {
  name: 'freeze Elasticsearch (5 s)',
  scoped: false,
  async inject() {
    const { stdout } = await run('pgrep', ['-f', 'org.elasticsearch.bootstrap.Elasticsearch']);
    const pids = stdout.split('\n').filter(Boolean).map(Number);
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    try {
      await sleep(5000);
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    }
  },
};

/**
 * Elasticsearch stopped and started again, the way `npm run stack -- down elasticsearch` and
 * `up` do it (SIGTERM, then a fresh process on the same data, waited for until its cluster is
 * yellow or green): connections refused for the 20-60 s it takes, then indices as they were.
 * Only an Elasticsearch this checkout's stack started (others' may not be ours to stop).
 */
const stopStartElasticsearch: Fault = {
  name: 'stop and start Elasticsearch',
  scoped: false,
  precondition() {
    return startedHere('elasticsearch')
      ? undefined
      : 'stopping Elasticsearch needs one this checkout started (`npm run stack -- up` here: ' +
          '.stack/state.json); run from that checkout, or CHAOS_GLOBAL_FAULTS=0';
  },
  async inject(ctx) {
    const log = (m: string) => ctx.log(`chaos:   [stack] ${m}`);
    const stopped = Date.now();
    await stackDown(log, ['elasticsearch']);
    await sleep(2000);
    await stackUp(log);
    ctx.log(`chaos:   Elasticsearch back after ${((Date.now() - stopped) / 1000).toFixed(0)} s`);
  },
};

/**
 * In the order the schedule injects them (cycling): every kind once before any twice, the
 * long global ones (a broker restart, Elasticsearch restarted) not last, so that a full run
 * gets to each even when restarts run long.
 */
export const FAULTS: readonly Fault[] = [
  killAndRestart('commands'),
  killMysqlConnections,
  stopStartElasticsearch,
  killAndRestart('relays'),
  closeAmqpConnections,
  restartRabbit,
  killAndRestart('queries'),
  stallMysql,
  freezeElasticsearch,
];
