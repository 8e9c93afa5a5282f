import {
  parseEventMessage,
  ValidationError,
  type EventSubscriber,
  type EventSubscription,
} from '@cqrs/core';
import type { Logger } from 'pino';
import type { AmqpConnection } from './connection';
import {
  startPartitionedConsumer,
  type PartitionedConsumer,
  type PartitionedQueues,
} from './partitions';

export interface AmqpEventSubscriptionOptions {
  readonly connection: AmqpConnection;
  readonly logger: Logger;
  /**
   * The partitioned queues: events hashed by stream onto `partitions` queues, each consumed by
   * one instance at a time, in order (docs/scaling.md).
   */
  readonly queues: PartitionedQueues;
  readonly eventsExchange: string;
  /** Quorum-queue `x-delivery-limit` (default 20). */
  readonly deliveryLimit?: number;
  /** How often an instance checks it holds no more than its share of partitions (ms). */
  readonly rebalanceEveryMs?: number;
}

/**
 * `@cqrs/core`'s EventSubscription on RabbitMQ: a partitioned consumer (single active
 * consumer per partition, rebalancing by hand-over) whose messages are parsed with the
 * event-message contract. A delivery is released when its channel closes (hand-over, death);
 * its outcome maps onto the consumer's: resolve = ack, ValidationError = dead letter,
 * DependencyUnavailableError = retry without limit.
 */
export class AmqpEventSubscription implements EventSubscription {
  private consumer: PartitionedConsumer | undefined;

  constructor(private readonly opts: AmqpEventSubscriptionOptions) {}

  get isConsuming(): boolean {
    return this.consumer?.isConsuming ?? false;
  }

  get activePartitions(): readonly number[] {
    return this.consumer?.activePartitions ?? [];
  }

  async start(subscriber: EventSubscriber, options: { readonly inFlight: number }): Promise<void> {
    this.consumer = await startPartitionedConsumer({
      connection: this.opts.connection,
      logger: this.opts.logger,
      name: this.opts.queues.name,
      partitions: this.opts.queues.partitions,
      eventsExchange: this.opts.eventsExchange,
      // The whole window on every partition channel, not split over the P channels: an
      // instance holding one partition of two (two instances) then still takes a batch while
      // it writes the one before (split, it held 1 000 for batches of 1 000 and wrote
      // them one by one, half-empty). RabbitMQ applies a basic.qos only to consumers
      // started after it, so the split cannot follow the instances as they come and go.
      // An instance holding k partitions may hold k x inFlight; a hand-over drains at most
      // inFlight (two batches).
      prefetch: options.inFlight,
      // Every unsettled delivery is handed to the subscriber at once.
      concurrency: options.inFlight,
      deliveryLimit: this.opts.deliveryLimit ?? 20,
      ...(this.opts.rebalanceEveryMs !== undefined
        ? { rebalanceEveryMs: this.opts.rebalanceEveryMs }
        : {}),
      handler: (msg, ctx) => {
        let event;
        try {
          event = parseEventMessage(msg.content);
        } catch (err) {
          if (err instanceof ValidationError) subscriber.malformed(err);
          return Promise.reject(err as Error);
        }
        return subscriber.deliver({
          event,
          redelivered: msg.fields.redelivered,
          released: ctx.released,
        });
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }
}
