import { readFileSync } from 'node:fs';
import { parseMysqlUrl } from '@cqrs/core';
import { createConnection } from 'mysql2/promise';
import { isLoopback, firstExisting, isProcessAlive, redact, run, sleep, waitFor } from './util';
import type { StartedService } from './state';

/** Connects to the server of `url` (no database selected); rejects within `timeoutMs`. */
async function probe(url: string, timeoutMs = 5000, createDatabase = true): Promise<void> {
  const { database: dbName, ...server } = parseMysqlUrl(url);
  const conn = await createConnection({ ...server, connectTimeout: timeoutMs });
  try {
    if (dbName && createDatabase)
      await conn.query(`CREATE DATABASE IF NOT EXISTS \`${dbName.replace(/`/g, '``')}\``);
  } finally {
    await conn.end();
  }
}

function mariadbPid(): number | undefined {
  const pidFiles = ['/run/mysqld/mysqld.pid', '/var/run/mysqld/mysqld.pid'];
  for (const f of pidFiles) {
    try {
      const pid = Number(readFileSync(f, 'utf8').trim());
      if (pid && isProcessAlive(pid)) return pid;
    } catch {
      /* no pid file */
    }
  }
  return undefined;
}

/**
 * Uses the database at `url` if it answers; starts the local MariaDB when it is installed
 * and stopped (and `url` points at it); otherwise fails with what to do.
 */
export async function mysqlUp(
  url: string,
  log: (m: string) => void,
): Promise<StartedService | undefined> {
  try {
    await probe(url);
    log(`mysql: using ${redact(url)}`);
    return undefined;
  } catch (first) {
    const { host, port } = parseMysqlUrl(url);
    const daemon = firstExisting('/usr/sbin/mariadbd', '/usr/sbin/mysqld');
    const canStart = isLoopback(host) && port === 3306 && daemon && !mariadbPid();
    if (!canStart) {
      throw new Error(
        `Cannot reach the MySQL-compatible database at ${redact(url)}: ${(first as Error).message}\n` +
          `  Fix: start MySQL 8 / MariaDB 10.6+ there, or set MYSQL_URL to a server that runs ` +
          `(e.g. MYSQL_URL=mysql://root@127.0.0.1:3306/cqrs), or use docker/compose.yml.`,
      );
    }
    log(`mysql: not answering at ${redact(url)}; starting local ${daemon}`);
    await run('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', daemon]);
    await waitFor(
      `the database at ${redact(url)}`,
      45_000,
      async () => (await probe(url, 2000), true),
    );
    await sleep(100);
    log(`mysql: started ${daemon}`);
    return {
      service: 'mysql',
      url,
      pid: mariadbPid(),
      startedAt: new Date().toISOString(),
      detail: { daemon },
    };
  }
}

export async function mysqlDown(s: StartedService, log: (m: string) => void): Promise<void> {
  const daemon = s.detail?.daemon ?? '/usr/sbin/mariadbd';
  await run('start-stop-daemon', ['--stop', '--oknodo', '--retry', '30', '--exec', daemon]);
  log(`mysql: stopped ${daemon}`);
}

export async function mysqlStatus(url: string): Promise<string> {
  try {
    await probe(url, 3000, false);
    return 'up';
  } catch (e) {
    return `down (${(e as Error).message})`;
  }
}
