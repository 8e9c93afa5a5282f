import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
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
}

export interface Fault {
  readonly name: string;
  /** Touches only this run's processes, connections and vhost (safe on a shared machine). */
  readonly scoped: boolean;
  inject(ctx: FaultContext, pick: number): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const killAndRestart = (role: 'commands' | 'relays' | 'queries'): Fault => ({
  name: `kill -9 ${role === 'commands' ? 'command-service' : role === 'relays' ? 'outbox-relay' : 'query-service'}`,
  scoped: true,
  async inject(ctx, pick) {
    const apps = ctx[role];
    const victim = apps[pick % apps.length]!;
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

export const FAULTS: readonly Fault[] = [
  killAndRestart('commands'),
  killMysqlConnections,
  killAndRestart('relays'),
  closeAmqpConnections,
  killAndRestart('queries'),
  stallMysql,
  restartRabbit,
  freezeElasticsearch,
];
