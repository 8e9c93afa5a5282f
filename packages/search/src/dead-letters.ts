import { DEAD_LETTER_HEADERS, deadLetterQueueName, type AmqpConnection } from '@cqrs/amqp';

export interface DeadLetter {
  readonly messageId: string | null;
  readonly routingKey: string | null;
  readonly reason: string | null;
  readonly failedAt: string | null;
  readonly attempts: number | null;
  readonly body: unknown;
}

/**
 * The oldest `limit` messages of a consumer's dead-letter queue, left in place: they are
 * fetched unacknowledged and returned to the queue, in order, when the channel closes.
 */
export async function listDeadLetters(
  connection: AmqpConnection,
  queue: string,
  limit = 100,
): Promise<{ total: number; deadLetters: DeadLetter[] }> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    const dlq = deadLetterQueueName(queue);
    const { messageCount } = await channel.checkQueue(dlq);
    const out: DeadLetter[] = [];
    while (out.length < Math.min(limit, messageCount)) {
      const msg = await channel.get(dlq, { noAck: false });
      if (msg === false) break;
      const h = (msg.properties.headers ?? {}) as Record<string, unknown>;
      const str = (v: unknown) => (v === undefined || v === null ? null : String(v));
      let body: unknown;
      try {
        body = JSON.parse(msg.content.toString('utf8'));
      } catch {
        body = msg.content.toString('utf8').slice(0, 2000);
      }
      out.push({
        messageId: str(msg.properties.messageId),
        routingKey: str(h[DEAD_LETTER_HEADERS.routingKey] ?? msg.fields.routingKey),
        reason: str(h[DEAD_LETTER_HEADERS.reason] ?? deathReason(h)),
        failedAt: str(h[DEAD_LETTER_HEADERS.failedAt]),
        attempts:
          typeof h[DEAD_LETTER_HEADERS.attempts] === 'number'
            ? (h[DEAD_LETTER_HEADERS.attempts] as number)
            : null,
        body,
      });
    }
    return { total: messageCount, deadLetters: out };
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/** Dead-lettered by the broker (delivery limit), not by the consumer: `x-death` says why. */
function deathReason(headers: Record<string, unknown>): string | undefined {
  const death = headers['x-death'];
  if (!Array.isArray(death) || death.length === 0) return undefined;
  const first = death[0] as { reason?: unknown };
  return first.reason === undefined ? undefined : `broker: ${String(first.reason)}`;
}
