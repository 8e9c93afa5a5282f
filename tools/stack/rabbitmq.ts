import { connect } from 'amqplib';
import { isLoopback, redact, run, waitFor, which } from './util';
import type { StartedService } from './state';

/** Plugins the project uses: management (vhosts in tests, UI) and the consistent-hash exchange. */
export const REQUIRED_PLUGINS = [
  'rabbitmq_management',
  'rabbitmq_consistent_hash_exchange',
] as const;

async function probe(url: string, timeoutMs = 5000): Promise<void> {
  const conn = await connect(url, { timeout: timeoutMs });
  await conn.close();
}

/** The management API base URL: RABBITMQ_MANAGEMENT_URL or the AMQP host on port 15672. */
export function managementUrl(amqpUrl: string, env = process.env): string {
  if (env.RABBITMQ_MANAGEMENT_URL) return env.RABBITMQ_MANAGEMENT_URL;
  const u = new URL(amqpUrl);
  const user = u.username || 'guest';
  const pass = u.password || 'guest';
  return `http://${user}:${pass}@${u.hostname}:15672`;
}

async function enablePlugins(log: (m: string) => void): Promise<void> {
  const list = await run('rabbitmq-plugins', ['list', '-e', '-m']);
  const enabled = new Set(list.split(/\s+/));
  const missing = REQUIRED_PLUGINS.filter((p) => !enabled.has(p));
  if (missing.length === 0) return;
  log(`rabbitmq: enabling ${missing.join(', ')}`);
  await run('rabbitmq-plugins', ['enable', ...missing]);
}

export async function rabbitUp(
  url: string,
  log: (m: string) => void,
): Promise<StartedService | undefined> {
  const local = isLoopback(new URL(url).hostname) && which('rabbitmq-plugins') !== undefined;
  let started: StartedService | undefined;
  try {
    await probe(url);
    log(`rabbitmq: using ${redact(url)}`);
  } catch (first) {
    const server = which('rabbitmq-server');
    if (!local || !server) {
      throw new Error(
        `Cannot reach RabbitMQ at ${redact(url)}: ${(first as Error).message}\n` +
          `  Fix: start RabbitMQ 3.10+ there, or set AMQP_URL to a broker that runs ` +
          `(e.g. AMQP_URL=amqp://guest:guest@127.0.0.1:5672), or use docker/compose.yml.`,
      );
    }
    log(`rabbitmq: not answering at ${redact(url)}; starting ${server} -detached`);
    await run(server, ['-detached']);
    await waitFor(
      `RabbitMQ at ${redact(url)}`,
      90_000,
      async () => (await probe(url, 2000), true),
      1000,
    );
    started = { service: 'rabbitmq', url, startedAt: new Date().toISOString() };
  }
  if (local) {
    await enablePlugins(log);
    const api = managementUrl(url);
    await waitFor(
      'the RabbitMQ management API',
      60_000,
      async () => (await fetchManagement(api, '/api/overview')).ok,
    );
  }
  return started;
}

export async function rabbitDown(_s: StartedService, log: (m: string) => void): Promise<void> {
  await run('rabbitmqctl', ['stop']);
  log('rabbitmq: stopped');
}

export async function rabbitStatus(url: string): Promise<string> {
  try {
    await probe(url, 3000);
    const mgmt = await fetchManagement(managementUrl(url), '/api/overview').then(
      (r) => (r.ok ? 'management up' : `management ${r.status}`),
      () => 'management unreachable',
    );
    return `up (${mgmt})`;
  } catch (e) {
    return `down (${(e as Error).message})`;
  }
}

/** Calls the management HTTP API with the credentials embedded in `base`. */
export function fetchManagement(
  base: string,
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  const u = new URL(base);
  const auth = Buffer.from(
    `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`,
  ).toString('base64');
  u.username = '';
  u.password = '';
  return fetch(new URL(path, u), {
    ...init,
    headers: {
      authorization: `Basic ${auth}`,
      'content-type': 'application/json',
      ...(init.headers ?? {}),
    },
    signal: AbortSignal.timeout(5000),
  });
}
