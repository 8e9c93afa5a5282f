import { DependencyUnavailableError } from '@cqrs/core';

export interface QueueStats {
  readonly name: string;
  /** Ready + unacknowledged: what the consumer has not finished yet. */
  readonly messages: number;
  readonly ready: number;
  readonly unacknowledged: number;
  readonly consumers: number;
  readonly type: string | null;
  /** Messages acknowledged per second, as the broker's last sample saw it. */
  readonly ackRate: number | null;
}

interface QueueJson {
  name: string;
  messages?: number;
  messages_ready?: number;
  messages_unacknowledged?: number;
  consumers?: number;
  type?: string;
  message_stats?: { ack_details?: { rate?: number } };
}

/** The management API's base URL for an AMQP URL: `RABBITMQ_MANAGEMENT_URL` wins. */
export function managementUrlFor(amqpUrl: string, explicit?: string): string {
  if (explicit) return explicit;
  const u = new URL(amqpUrl);
  return `http://${u.username || 'guest'}:${u.password || 'guest'}@${u.hostname}:15672`;
}

/** The vhost an AMQP URL names (`/` when its path is empty). */
export function vhostOf(amqpUrl: string): string {
  const path = new URL(amqpUrl).pathname.replace(/^\//, '');
  return path === '' ? '/' : decodeURIComponent(path);
}

/** Every queue of a vhost with its depth and consumers (RabbitMQ management API). */
export async function queueStats(managementUrl: string, vhost: string): Promise<QueueStats[]> {
  const base = new URL(managementUrl);
  const auth = Buffer.from(
    `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`,
  ).toString('base64');
  base.username = '';
  base.password = '';
  const url = new URL(`/api/queues/${encodeURIComponent(vhost)}`, base);
  url.searchParams.set(
    'columns',
    'name,messages,messages_ready,messages_unacknowledged,consumers,type,message_stats.ack_details',
  );
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { authorization: `Basic ${auth}` },
      signal: AbortSignal.timeout(3000),
    });
  } catch (err) {
    throw new DependencyUnavailableError('rabbitmq-management', (err as Error).message);
  }
  if (!res.ok) {
    throw new DependencyUnavailableError('rabbitmq-management', `HTTP ${res.status}`);
  }
  const queues = (await res.json()) as QueueJson[];
  return queues.map((q) => ({
    name: q.name,
    messages: q.messages ?? 0,
    ready: q.messages_ready ?? 0,
    unacknowledged: q.messages_unacknowledged ?? 0,
    consumers: q.consumers ?? 0,
    type: q.type ?? null,
    ackRate: q.message_stats?.ack_details?.rate ?? null,
  }));
}
