import type { Channel } from 'amqplib';

/** The dead-letter exchange that belongs to an events exchange: `<exchange>.dlx` (direct). */
export function deadLetterExchangeName(eventsExchange: string): string {
  return `${eventsExchange}.dlx`;
}

/** The dead-letter queue of a consumer queue: `<queue>.dlq`. */
export function deadLetterQueueName(queue: string): string {
  return `${queue}.dlq`;
}

/**
 * Declares the durable `events` topic exchange and its dead-letter exchange. Idempotent:
 * every process that publishes or consumes may call it on each (re)connect.
 */
export async function declareEventTopology(
  channel: Channel,
  eventsExchange: string,
): Promise<void> {
  await channel.assertExchange(eventsExchange, 'topic', { durable: true });
  await channel.assertExchange(deadLetterExchangeName(eventsExchange), 'direct', { durable: true });
}

export interface ConsumerQueueSpec {
  readonly queue: string;
  readonly eventsExchange: string;
  /** Topic patterns bound on the events exchange, e.g. `reservation.*` or `#`. */
  readonly bindings: readonly string[];
  /**
   * Broker-side bound on deliveries (quorum queue `x-delivery-limit`): a message that keeps
   * coming back - e.g. because it crashes the consumer process each time - is dead-lettered
   * by the broker. Failures the handler reports are dead-lettered by the consumer itself,
   * earlier and with the reason (see consumer.ts).
   */
  readonly deliveryLimit: number;
}

/**
 * A durable quorum queue bound to the events exchange, dead-lettering into `<queue>.dlq`
 * through the dead-letter exchange (routing key = the queue name, so consumers sharing the
 * exchange never see each other's dead letters).
 */
export async function declareConsumerQueue(
  channel: Channel,
  spec: ConsumerQueueSpec,
): Promise<void> {
  await declareEventTopology(channel, spec.eventsExchange);
  await declareDeadLetterQueue(channel, spec.eventsExchange, spec.queue);
  await channel.assertQueue(spec.queue, {
    durable: true,
    arguments: quorumQueueArguments(spec.eventsExchange, spec.queue, spec.deliveryLimit),
  });
  for (const pattern of spec.bindings) {
    await channel.bindQueue(spec.queue, spec.eventsExchange, pattern);
  }
}

/** `<owner>.dlq`, fed by the dead-letter exchange with routing key `owner`. */
export async function declareDeadLetterQueue(
  channel: Channel,
  eventsExchange: string,
  owner: string,
): Promise<void> {
  const dlq = deadLetterQueueName(owner);
  await channel.assertQueue(dlq, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await channel.bindQueue(dlq, deadLetterExchangeName(eventsExchange), owner);
}

/** A durable quorum queue's arguments: delivery limit, dead letters to `<owner>.dlq`. */
export function quorumQueueArguments(
  eventsExchange: string,
  owner: string,
  deliveryLimit: number,
): Record<string, unknown> {
  return {
    'x-queue-type': 'quorum',
    'x-delivery-limit': deliveryLimit,
    'x-dead-letter-exchange': deadLetterExchangeName(eventsExchange),
    'x-dead-letter-routing-key': owner,
  };
}
