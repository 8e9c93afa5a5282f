import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { createConnection } from 'mysql2/promise';
import { managementUrl, fetchManagement } from '@cqrs/stack';
import { mysqlConnectionOptions, type BenchEnv } from './context';

/** The machine the figures come from. */
export function describeMachine() {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryMb: Math.round(os.totalmem() / 2 ** 20),
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    git: gitDescribe(),
  };
}

function gitDescribe(): { commit: string; dirty: boolean } | undefined {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
    const status = execFileSync('git', ['status', '--porcelain'], { encoding: 'utf8' });
    return { commit: commit.trim(), dirty: status.trim().length > 0 };
  } catch {
    return undefined;
  }
}

/**
 * The settings that decide what a commit costs: InnoDB's log flush and the binlog sync
 * (MySQL), and the broker and search versions. Queue type and refresh_interval are added by
 * the benchmarks that create queues and indices (they read them back from the servers).
 */
export async function describeDurability(env: BenchEnv): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const u = mysqlConnectionOptions(env.mysqlUrl);
  const conn = await createConnection({ ...u, database: undefined });
  try {
    const [rows] = await conn.query(
      `SELECT @@version AS version, @@innodb_flush_log_at_trx_commit AS flush, @@sync_binlog AS sync_binlog,
              @@log_bin AS log_bin, @@innodb_buffer_pool_size AS buffer_pool, @@innodb_doublewrite AS doublewrite`,
    );
    const r = (rows as Record<string, unknown>[])[0] ?? {};
    out.mysqlVersion = r.version;
    out.innodb_flush_log_at_trx_commit = Number(r.flush);
    out.sync_binlog = Number(r.sync_binlog);
    out.log_bin = Number(r.log_bin) === 1;
    out.innodb_doublewrite = Number(r.doublewrite) === 1;
    out.innodb_buffer_pool_mb = Math.round(Number(r.buffer_pool) / 2 ** 20);
  } finally {
    await conn.end();
  }
  try {
    const res = await fetchManagement(managementUrl(env.amqpUrl), '/api/overview');
    const o = (await res.json()) as { rabbitmq_version?: string; erlang_version?: string };
    out.rabbitmqVersion = o.rabbitmq_version;
  } catch (err) {
    out.rabbitmqVersion = `unknown (${(err as Error).message})`;
  }
  try {
    const res = await fetch(`${env.elasticsearchUrl}/_nodes/_local/settings`);
    const body = (await res.json()) as { nodes?: Record<string, { version?: string }> };
    out.elasticsearchVersion = Object.values(body.nodes ?? {})[0]?.version;
  } catch (err) {
    out.elasticsearchVersion = `unknown (${(err as Error).message})`;
  }
  return out;
}
