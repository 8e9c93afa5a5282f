import type { ValidationError } from './errors';
import type { EventEnvelope } from './messages';

/**
 * The port the projector consumes events through (`@cqrs/amqp`'s AmqpEventSubscription
 * implements it on RabbitMQ's partition queues). The transport parses every message with the
 * one event-message contract (`parseEventMessage`) and hands over events, not messages; the
 * subscriber settles each delivery by the promise its `deliver` returns:
 *
 * - resolves: acknowledged, never delivered again;
 * - rejects with a `ValidationError`: dead-lettered at once, with the error as its reason;
 * - rejects with a `DependencyUnavailableError`: retried, without limit (the event is fine);
 * - any other rejection: retried a few times, then dead-lettered.
 *
 * Delivery is at least once: an event may come again (`redelivered`) after its subscriber
 * died or let go of it. Events of one stream come in order, from one partition, which one
 * subscriber instance owns at a time.
 */
export interface EventSubscription {
  /**
   * Starts delivering to `subscriber`; at most `inFlight` deliveries of each partition this
   * instance owns are unsettled at once.
   */
  start(subscriber: EventSubscriber, options: { readonly inFlight: number }): Promise<void>;
  /** Takes no new deliveries, waits for the unsettled ones (up to a bound), and lets go. */
  stop(): Promise<void>;
  /** True while every partition is subscribed (owned or waiting in line for it). */
  readonly isConsuming: boolean;
  /** The partitions this instance owns now (as far as deliveries show). */
  readonly activePartitions: readonly number[];
}

export interface EventSubscriber {
  /** Applies one event; the returned promise settles it (see EventSubscription). */
  deliver(delivery: EventDelivery): Promise<void>;
  /** A message that is not an event message: dead-lettered, never delivered. */
  malformed(error: ValidationError): void;
}

/** One event handed to a subscriber. */
export interface EventDelivery {
  readonly event: EventEnvelope;
  /** Delivered before, to a subscriber that died or let go of it: it may be applied already. */
  readonly redelivered: boolean;
  /**
   * Aborted when the delivery stops being this subscriber's (its partition went to another
   * instance, or the connection died): the transport delivers it again elsewhere, so it must
   * not be applied here any more, and its outcome is ignored.
   */
  readonly released: AbortSignal;
}
