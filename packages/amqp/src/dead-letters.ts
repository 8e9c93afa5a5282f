import type { ConfirmChannel, GetMessage } from 'amqplib';
import type { AmqpConnection } from './connection';
import { DEAD_LETTER_HEADERS } from './consumer';
import { republishOptions } from './republish';
import { deadLetterQueueName } from './topology';

/** Where a replayed dead letter goes: for a partitioned consumer, its hash exchange. */
export interface ReplayRoute {
  readonly exchange: string;
}

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
  via?: ReplayRoute,
): Promise<number> {
  const channel = await connection.createConfirmChannel();
  channel.on('error', () => undefined);
  let moved = 0;
  try {
    while (moved < limit) {
      const msg = await channel.get(deadLetterQueueName(queue), { noAck: false });
      if (msg === false) break;
      await sendBack(channel, queue, msg, via);
      moved++;
    }
  } finally {
    await channel.close().catch(() => undefined);
  }
  return moved;
}

/**
 * Moves the dead letter whose `messageId` is given back, as `replayDeadLetters` does; false
 * when the dead-letter queue holds no such message. The ones fetched before it return to
 * the dead-letter queue unchanged when the channel closes.
 */
export function replayDeadLetter(
  connection: AmqpConnection,
  queue: string,
  messageId: string,
  via?: ReplayRoute,
): Promise<boolean> {
  return withDeadLetter(connection, queue, messageId, (channel, msg) =>
    sendBack(channel, queue, msg, via),
  );
}

/** Removes the dead letter whose `messageId` is given, for good; false when there is none. */
export function discardDeadLetter(
  connection: AmqpConnection,
  queue: string,
  messageId: string,
): Promise<boolean> {
  return withDeadLetter(connection, queue, messageId, async (channel, msg) => {
    channel.ack(msg);
  });
}

/**
 * Messages another channel just returned (a listing, a previous search) come back to the
 * queue a moment after that channel closed: a miss is looked for again a few times before
 * it counts as "no such dead letter".
 */
async function withDeadLetter(
  connection: AmqpConnection,
  queue: string,
  messageId: string,
  act: (channel: ConfirmChannel, msg: GetMessage) => Promise<void>,
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    if (await findDeadLetter(connection, queue, messageId, act)) return true;
    if (attempt >= 5) return false;
    await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
  }
}

async function findDeadLetter(
  connection: AmqpConnection,
  queue: string,
  messageId: string,
  act: (channel: ConfirmChannel, msg: GetMessage) => Promise<void>,
): Promise<boolean> {
  const channel = await connection.createConfirmChannel();
  channel.on('error', () => undefined);
  try {
    const dlq = deadLetterQueueName(queue);
    const { messageCount } = await channel.checkQueue(dlq);
    for (let seen = 0; seen < messageCount; seen++) {
      const msg = await channel.get(dlq, { noAck: false });
      if (msg === false) return false;
      if (msg.properties.messageId === messageId) {
        await act(channel, msg);
        return true;
      }
    }
    return false;
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/** Publishes a dead letter's copy without the dead-letter headers, then acks it. */
async function sendBack(
  channel: ConfirmChannel,
  queue: string,
  msg: GetMessage,
  via: ReplayRoute | undefined,
): Promise<void> {
  const headers: Record<string, unknown> = { ...(msg.properties.headers ?? {}) };
  for (const h of Object.values(DEAD_LETTER_HEADERS)) delete headers[h];
  headers['x-replayed-at'] = new Date().toISOString();
  const options = republishOptions(msg.properties, headers);
  await new Promise<void>((resolve, reject) =>
    channel.publish(via?.exchange ?? '', via ? '' : queue, msg.content, options, (err: unknown) =>
      err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
    ),
  );
  channel.ack(msg);
}
