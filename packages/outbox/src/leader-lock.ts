import { sleep } from '@cqrs/amqp';
import { parseMysqlUrl } from '@cqrs/core';
import { createConnection, type Connection } from 'mysql2/promise';
import type { Logger } from 'pino';

/** Who may publish. The relay asks `term` before each message and stops when it aborts. */
export interface LeaderLock {
  readonly isLeader: boolean;
  /** True while the lock's database connection is up: this process can lead (or does). */
  readonly canLead: boolean;
  /** Aborted the moment leadership ends; undefined while not leading. */
  readonly term: AbortSignal | undefined;
  /** Called on every change of leadership. */
  onChange(listener: (isLeader: boolean) => void): void;
  start(): void;
  stop(): Promise<void>;
}

export interface MySqlLeaderLockOptions {
  /** `mysql://...` of the event store: the lock lives on that server. */
  readonly url: string;
  /** GET_LOCK name (server-wide, at most 64 chars). Default: `outbox-relay:<database>`. */
  readonly lockName?: string;
  readonly logger: Logger;
  /** How long one GET_LOCK call waits for the lock, in seconds (default 1). */
  readonly acquireWaitSeconds?: number;
  /** How often the leader checks it still holds the lock (default 1000 ms). */
  readonly checkIntervalMs?: number;
  /** Pause before reconnecting after the lock connection failed (default 1000 ms). */
  readonly reconnectDelayMs?: number;
}

/** `outbox-relay:<database>`: relays of different databases on one server never collide. */
export function defaultLockName(mysqlUrl: string): string {
  const db = parseMysqlUrl(mysqlUrl).database || 'default';
  return `outbox-relay:${db}`.slice(0, 64);
}

/**
 * Leader election with MySQL's `GET_LOCK` on a dedicated connection.
 *
 * The lock belongs to the connection: it is released when the holder calls RELEASE_LOCK, or
 * when its session ends - which is what happens when the process dies, even with kill -9
 * (the OS closes the socket, the server ends the session). Standbys block in
 * `GET_LOCK(name, acquireWaitSeconds)` in a loop, so one takes over as soon as the lock is
 * free. The leader checks `IS_USED_LOCK(name) = CONNECTION_ID()` every `checkIntervalMs`;
 * if that fails, or the connection reports an error or ends, leadership ends at once (the
 * `term` signal aborts) - the server may already have handed the lock to another relay.
 */
export class MySqlLeaderLock implements LeaderLock {
  private readonly log: Logger;
  private readonly lockName: string;
  private connection: Connection | undefined;
  private termController: AbortController | undefined;
  private readonly listeners: Array<(isLeader: boolean) => void> = [];
  private connected = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly wakeUp = new AbortController();

  constructor(private readonly opts: MySqlLeaderLockOptions) {
    this.lockName = opts.lockName ?? defaultLockName(opts.url);
    this.log = opts.logger.child({ component: 'leader-lock', lock: this.lockName });
  }

  get isLeader(): boolean {
    return this.termController !== undefined;
  }

  get canLead(): boolean {
    return this.connected;
  }

  get term(): AbortSignal | undefined {
    return this.termController?.signal;
  }

  onChange(listener: (isLeader: boolean) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Gives the lock up (a standby takes over at once) and closes the connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp.abort();
    const conn = this.connection;
    const wasLeader = this.isLeader;
    this.endTerm('stopping');
    if (conn && wasLeader) {
      await conn
        .query({ sql: 'SELECT RELEASE_LOCK(?)', timeout: 2000 }, [this.lockName])
        .catch(() => undefined);
    }
    conn?.destroy();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.session();
      } catch (err) {
        if (!this.stopped) this.log.warn({ err: (err as Error).message }, 'lock connection failed');
      } finally {
        this.endTerm('lock connection closed');
        this.connected = false;
        this.connection?.destroy();
        this.connection = undefined;
      }
      if (!this.stopped) await sleep(this.opts.reconnectDelayMs ?? 1000, this.wakeUp.signal);
    }
  }

  /** One connection's life: wait for the lock, then hold it until something fails. */
  private async session(): Promise<void> {
    const conn = await createConnection(connectionConfig(this.opts.url));
    this.connection = conn;
    if (this.stopped) return;
    const lost = (why: string) => (err?: Error) => {
      this.connected = false;
      this.endTerm(err ? `${why}: ${err.message}` : why);
    };
    conn.on('error', lost('lock connection error'));
    conn.on('end', lost('lock connection ended'));
    this.connected = true;

    const wait = this.opts.acquireWaitSeconds ?? 1;
    while (!this.stopped && !this.isLeader) {
      const [rows] = (await conn.query('SELECT GET_LOCK(?, ?) AS got', [this.lockName, wait])) as [
        { got: number | string | null }[],
        unknown,
      ];
      if (Number(rows[0]?.got) === 1 && !this.stopped) this.beginTerm();
    }
    while (!this.stopped && this.isLeader) {
      await sleep(this.opts.checkIntervalMs ?? 1000, this.term);
      if (this.stopped || !this.isLeader) break;
      const [rows] = (await conn.query(
        { sql: 'SELECT IS_USED_LOCK(?) = CONNECTION_ID() AS mine', timeout: 2000 },
        [this.lockName],
      )) as [{ mine: number | string | null }[], unknown];
      if (Number(rows[0]?.mine) !== 1) throw new Error('the lock is no longer ours');
    }
    if (!this.stopped) throw new Error('leadership lost');
  }

  private beginTerm(): void {
    this.termController = new AbortController();
    this.log.info('acquired the relay lock: leading');
    for (const l of this.listeners) l(true);
  }

  private endTerm(reason: string): void {
    const t = this.termController;
    if (!t) return;
    this.termController = undefined;
    t.abort(new Error(`leadership ended: ${reason}`));
    this.log.warn({ reason }, 'no longer leading');
    for (const l of this.listeners) l(false);
  }
}

/** mysql2 connection settings for a `mysql://user:pass@host:port/db` URL (as createKnex). */
export function connectionConfig(url: string) {
  return {
    ...parseMysqlUrl(url),
    timezone: 'Z',
    connectTimeout: 5000,
  };
}
