import { commonEnv, readConfig } from '@cqrs/core';
import { elasticsearchDown, elasticsearchStatus, elasticsearchUp } from './elasticsearch';
import { mysqlDown, mysqlStatus, mysqlUp } from './mysql';
import { rabbitDown, rabbitStatus, rabbitUp } from './rabbitmq';
import { readState, writeState, type ServiceName, type StartedService } from './state';
import { redact } from './util';

export const stackEnv = {
  mysqlUrl: commonEnv.mysqlUrl,
  amqpUrl: commonEnv.amqpUrl,
  elasticsearchUrl: commonEnv.elasticsearchUrl,
};

type Log = (m: string) => void;

/**
 * Brings every service up (using what already runs) and records what it started.
 * Idempotent: a second `up` finds everything running and starts nothing.
 */
export async function stackUp(log: Log, env = process.env): Promise<StartedService[]> {
  const cfg = readConfig(stackEnv, env);
  const state = readState();
  const started: StartedService[] = [];
  const record = (s: StartedService | undefined) => {
    if (!s) return;
    started.push(s);
    state[s.service] = s;
    writeState(state);
  };
  // The database and the broker are quick to check; Elasticsearch may need a download.
  const [db, mq] = await Promise.allSettled([
    mysqlUp(cfg.mysqlUrl, log),
    rabbitUp(cfg.amqpUrl, log),
  ]);
  if (db.status === 'fulfilled') record(db.value);
  if (mq.status === 'fulfilled') record(mq.value);
  const failures = [db, mq].filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failures.length > 0)
    throw new Error(failures.map((f) => (f.reason as Error).message).join('\n'));
  record(await elasticsearchUp(cfg.elasticsearchUrl, log));
  return started;
}

/** What this checkout's `up` started and `down` may stop (undefined: not started here). */
export function startedHere(name: ServiceName): StartedService | undefined {
  return readState()[name];
}

const stoppers: Record<ServiceName, (s: StartedService, log: Log) => Promise<void>> = {
  mysql: mysqlDown,
  rabbitmq: rabbitDown,
  elasticsearch: elasticsearchDown,
};

/** Stops what `up` started (all of it, or only `which`), and nothing else. */
export async function stackDown(log: Log, which?: readonly ServiceName[]): Promise<void> {
  const state = readState();
  let stopped = 0;
  for (const name of ['elasticsearch', 'rabbitmq', 'mysql'] as const) {
    const s = state[name];
    if (!s || (which && !which.includes(name))) continue;
    await stoppers[name](s, log);
    delete state[name];
    writeState(state);
    stopped++;
  }
  if (stopped === 0) log('stack: nothing that this checkout started is running');
}

export async function stackStatus(env = process.env): Promise<string[]> {
  const cfg = readConfig(stackEnv, env);
  const state = readState();
  const owner = (n: ServiceName) =>
    state[n]
      ? `started by this checkout at ${state[n]!.startedAt}${state[n]!.pid ? `, pid ${state[n]!.pid}` : ''}`
      : 'not started by us';
  const [m, r, e] = await Promise.all([
    mysqlStatus(cfg.mysqlUrl),
    rabbitStatus(cfg.amqpUrl),
    elasticsearchStatus(cfg.elasticsearchUrl),
  ]);
  return [
    `mysql          ${redact(cfg.mysqlUrl)}  ${m}  [${owner('mysql')}]`,
    `rabbitmq       ${redact(cfg.amqpUrl)}  ${r}  [${owner('rabbitmq')}]`,
    `elasticsearch  ${cfg.elasticsearchUrl}  ${e}  [${owner('elasticsearch')}]`,
  ];
}
