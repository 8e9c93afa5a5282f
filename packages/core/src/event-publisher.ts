/**
 * The port the outbox relay publishes through (`@cqrs/amqp`'s ConfirmPublisher implements it
 * for RabbitMQ). Publishing is pipelined: `send` resolves once the message is on its way, in
 * call order; its `confirmed` settles when the broker took responsibility for it, or failed.
 */
export interface EventPublisher {
  /**
   * Sends now if that needs no waiting (room in the window, channel open, nobody queued
   * before); otherwise returns undefined and sends nothing.
   */
  trySend(
    topic: string,
    routingKey: string,
    content: Buffer,
    properties: PublishProperties,
  ): SentMessage | undefined;
  /** Sends once there is room; rejects, sending nothing, when `signal` aborts first. */
  send(
    topic: string,
    routingKey: string,
    content: Buffer,
    properties: PublishProperties,
    signal?: AbortSignal,
  ): Promise<SentMessage>;
}

/** What a message carries besides its body (AMQP's property names). */
export interface PublishProperties {
  readonly persistent?: boolean;
  readonly contentType?: string;
  readonly messageId?: string;
  readonly type?: string;
  /** Seconds since the epoch. */
  readonly timestamp?: number;
  readonly headers?: Readonly<Record<string, unknown>>;
}

/** A message handed to the broker; `confirmed` settles with the broker's ack or nack. */
export interface SentMessage {
  /** Resolves on the broker's ack; rejects (DependencyUnavailableError) on a nack, a closed channel or a timeout. */
  readonly confirmed: Promise<void>;
}
