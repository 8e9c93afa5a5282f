import type { AmqpConnection } from './connection';
import { DEAD_LETTER_HEADERS } from './consumer';
import { republishOptions } from './republish';
import { deadLetterQueueName } from './topology';

/**
 * Moves up to `limit` messages from `<queue>.dlq` back into `<queue>` (through the default
 * exchange, so only this consumer sees them again), oldest first; for a partitioned consumer
 * (`via`: its hash exchange, also named `<queue>`) into the partition of the message's
 * stream. Each is removed from the dead-letter queue only after the broker confirmed the
 * copy. Returns how many moved.
 */
export async function replayDeadLetters(
  connection: AmqpConnection,
  queue: string,
  limit = 1000,
  via?: { readonly exchange: string },
): Promise<number> {
  const channel = await connection.createConfirmChannel();
  channel.on('error', () => undefined);
  let moved = 0;
  try {
    while (moved < limit) {
      const msg = await channel.get(deadLetterQueueName(queue), { noAck: false });
      if (msg === false) break;
      const p = msg.properties;
      const headers: Record<string, unknown> = { ...(p.headers ?? {}) };
      for (const h of Object.values(DEAD_LETTER_HEADERS)) delete headers[h];
      headers['x-replayed-at'] = new Date().toISOString();
      const options = republishOptions(p, headers);
      await new Promise<void>((resolve, reject) =>
        channel.publish(
          via?.exchange ?? '',
          via ? '' : queue,
          msg.content,
          options,
          (err: unknown) =>
            err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
        ),
      );
      channel.ack(msg);
      moved++;
    }
  } finally {
    await channel.close().catch(() => undefined);
  }
  return moved;
}
