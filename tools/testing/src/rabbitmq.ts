import { fetchManagement, managementUrl } from '@cqrs/stack';
import { uniqueName } from './names';

export interface TestVhost {
  /** `AMQP_URL` pointing at the fresh vhost. */
  readonly url: string;
  readonly vhost: string;
  /** The management API base URL (with credentials), e.g. to close connections. */
  readonly managementUrl: string;
  /**
   * Names of the client connections to this vhost the management API knows of. It learns of
   * a new connection only at its next statistics tick (up to ~5 s): wait on this before a
   * `closeConnections()` that must hit a given connection.
   */
  listConnections(): Promise<string[]>;
  /** Closes every client connection to this vhost, as a broker restart would. */
  closeConnections(): Promise<number>;
  /**
   * Messages (ready + unacknowledged) per queue of this vhost, as the management API last
   * sampled them (its statistics tick: up to ~5 s old).
   */
  queueDepths(): Promise<Record<string, number>>;
  drop(): Promise<void>;
}

const baseUrl = () => process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

async function ok(res: Promise<Response>, what: string): Promise<Response> {
  const r = await res;
  if (!r.ok && r.status !== 404) throw new Error(`${what}: HTTP ${r.status} ${await r.text()}`);
  return r;
}

/**
 * Grants `user` everything on the vhost and returns once the broker shows the grant. A grant
 * sent while the new vhost is still starting can answer 404 (a loaded machine saw a test's
 * first declare refused, ACCESS_REFUSED): it is sent again until it holds.
 */
async function grant(api: string, v: string, user: string): Promise<void> {
  const path = `/api/permissions/${v}/${encodeURIComponent(user)}`;
  for (let attempt = 1; ; attempt++) {
    const put = await fetchManagement(api, path, {
      method: 'PUT',
      body: JSON.stringify({ configure: '.*', write: '.*', read: '.*' }),
    });
    await put.text();
    const shown = await fetchManagement(api, path);
    await shown.text();
    if (shown.ok) return;
    if (attempt === 50)
      throw new Error(`grant ${user} on ${decodeURIComponent(v)}: HTTP ${shown.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Creates a RabbitMQ vhost of its own for one test file; `drop()` deletes it and all in it. */
export async function createTestVhost(label: string): Promise<TestVhost> {
  const vhost = uniqueName(label);
  const api = managementUrl(baseUrl());
  const user = decodeURIComponent(new URL(baseUrl()).username || 'guest');
  const v = encodeURIComponent(vhost);
  await ok(fetchManagement(api, `/api/vhosts/${v}`, { method: 'PUT' }), `create vhost ${vhost}`);
  await grant(api, v, user);
  const u = new URL(baseUrl());
  u.pathname = `/${v}`;
  return {
    url: u.toString(),
    vhost,
    managementUrl: api,
    async listConnections() {
      const res = await ok(
        fetchManagement(api, `/api/vhosts/${v}/connections`),
        'list connections',
      );
      return ((await res.json()) as { name: string }[]).map((c) => c.name);
    },
    async queueDepths() {
      const res = await ok(
        fetchManagement(api, `/api/queues/${v}?columns=name,messages`),
        'list queues',
      );
      const queues = (await res.json()) as { name: string; messages?: number }[];
      return Object.fromEntries(queues.map((q) => [q.name, q.messages ?? 0]));
    },
    async closeConnections() {
      const res = await ok(
        fetchManagement(api, `/api/vhosts/${v}/connections`),
        'list connections',
      );
      const conns = (await res.json()) as { name: string }[];
      await Promise.all(
        conns.map((c) =>
          fetchManagement(api, `/api/connections/${encodeURIComponent(c.name)}`, {
            method: 'DELETE',
            headers: { 'X-Reason': 'test: simulated broker restart' },
          }),
        ),
      );
      return conns.length;
    },
    async drop() {
      await ok(
        fetchManagement(api, `/api/vhosts/${v}`, { method: 'DELETE' }),
        `delete vhost ${vhost}`,
      );
    },
  };
}
