import { DependencyUnavailableError, ValidationError } from '@cqrs/core';
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import { AckBatcher } from './acks';
import { backoffDelay, DEFAULT_BACKOFF, sleep, type BackoffOptions } from './backoff';
import type { AmqpConnection } from './connection';
import { republishOptions } from './republish';
import { deadLetterExchangeName, declareConsumerQueue } from './topology';

export interface HandlerContext {
  /** 1 on the first try of this delivery, then 2, 3, ... on in-process retries. */
  readonly attempt: number;
  /** Aborted when the consumer stops or its channel dies: the message will be redelivered. */
  readonly signal: AbortSignal;
  /**
   * Aborted only when the channel is gone: the message is no longer this consumer's (the
   * broker redelivers it, on a single-active-consumer queue to the next consumer). A stop
   * does not abort it: handlers that started are waited for.
   */
  readonly released: AbortSignal;
}

export type MessageHandler = (message: ConsumeMessage, ctx: HandlerContext) => Promise<void>;

export interface ConsumerOptions {
  readonly connection: AmqpConnection;
  readonly logger: Logger;
  /** The consumer's own durable quorum queue; its dead letters go to `<queue>.dlq`. */
  readonly queue: string;
  readonly eventsExchange: string;
  /** Topic patterns to bind, e.g. `['reservation.*', 'customer.*']` or `['#']`. */
  readonly bindings?: readonly string[];
  /**
   * Declares what the consumer reads on every new channel, in place of the default (its own
   * quorum queue bound to `bindings`): e.g. one partition of a partitioned consumer.
   */
  readonly declare?: (channel: Channel) => Promise<void>;
  /**
   * Routing key of its dead letters on the dead-letter exchange (default `queue`): the
   * partitions of one consumer share `<deadLetterKey>.dlq`.
   */
  readonly deadLetterKey?: string;
  readonly handler: MessageHandler;
  /** Unacknowledged messages the broker may push at once (default 50). */
  readonly prefetch?: number;
  /**
   * Messages handled at the same time (default 1: strictly in delivery order). Raise it to
   * micro-batch (e.g. one Elasticsearch `_bulk` for many handler calls); it is capped by
   * `prefetch`.
   */
  readonly concurrency?: number;
  /** Handler failures of one delivery before the message is dead-lettered (default 5). */
  readonly maxAttempts?: number;
  /** Quorum-queue `x-delivery-limit`: redeliveries before the broker dead-letters (default 20). */
  readonly deliveryLimit?: number;
  /** Delay between in-process retries. */
  readonly backoff?: BackoffOptions;
  /** Failures that retrying cannot fix: dead-lettered at once. Default: ValidationError. */
  readonly isPermanent?: (err: unknown) => boolean;
  /**
   * Failures of a dependency (the message is fine): retried with capped backoff for as long
   * as it takes, never dead-lettered. Default: DependencyUnavailableError.
   */
  readonly isTransient?: (err: unknown) => boolean;
}

export interface Consumer {
  /** True while a channel is open and consuming. */
  readonly isConsuming: boolean;
  /**
   * True once a message arrived on the current subscription. On a single-active-consumer
   * queue that means this is the active consumer (it stays so until it hands over or dies).
   */
  readonly isActive: boolean;
  /**
   * Gives the queue to the next consumer in line: takes no more deliveries, waits until every
   * handler that started has finished (and acked), then closes the channel - the broker
   * returns the messages not started, activates the next single active consumer - and
   * subscribes again, at the end of the line. Never two consumers handling at once.
   */
  handOver(): Promise<void>;
  /** Stops taking messages, lets in-flight handlers finish (up to `timeoutMs`), closes the channel. */
  stop(timeoutMs?: number): Promise<void>;
}

/** Headers a dead-lettered message carries, besides its own. */
export const DEAD_LETTER_HEADERS = {
  reason: 'x-dead-letter-reason',
  attempts: 'x-dead-letter-attempts',
  queue: 'x-original-queue',
  exchange: 'x-original-exchange',
  routingKey: 'x-original-routing-key',
  failedAt: 'x-failed-at',
} as const;

/**
 * Consumes a queue with manual acks, in-process retries with backoff, and dead-lettering.
 *
 * Per delivery: the handler runs; success acks. A failure is retried after a backoff delay,
 * up to `maxAttempts`; then (or at once for a permanent failure) the message is published
 * to the dead-letter exchange with the reason in its headers, and acked only after the
 * broker confirmed the dead letter. Transient failures (a dependency down) retry without
 * limit: dead-lettering good messages during an outage would be wrong.
 *
 * Recovery: when the channel or the connection dies, unacked messages return to the queue;
 * the consumer opens a new channel, re-declares its queue and bindings and consumes again.
 * Delivery is therefore at least once: handlers must be idempotent.
 */
export async function startConsumer(opts: ConsumerOptions): Promise<Consumer> {
  const log = opts.logger.child({ component: 'consumer', queue: opts.queue });
  const prefetch = Math.max(1, opts.prefetch ?? 50);
  const concurrency = Math.min(prefetch, Math.max(1, opts.concurrency ?? 1));
  const maxAttempts = Math.max(1, opts.maxAttempts ?? 5);
  const backoff = opts.backoff ?? DEFAULT_BACKOFF;
  const isPermanent = opts.isPermanent ?? ((err) => err instanceof ValidationError);
  const isTransient = opts.isTransient ?? ((err) => err instanceof DependencyUnavailableError);
  const stopping = new AbortController();

  let consuming = false;
  let delivered = false;
  let current:
    { channel: ConfirmChannel; tag: string; gone: AbortController; acks: AckBatcher } | undefined;
  const acks = new WeakMap<ConfirmChannel, AckBatcher>();
  const queue: Array<{ msg: ConsumeMessage; channel: ConfirmChannel; gone: AbortSignal }> = [];
  let active = 0;
  /** Set during a hand-over: deliveries wait (and go back to the broker with the channel). */
  let holding = false;
  let idle: Array<() => void> = [];

  function pump(): void {
    while (!holding && active < concurrency && queue.length > 0) {
      const job = queue.shift()!;
      active++;
      void handle(job.channel, job.msg, job.gone).finally(() => {
        active--;
        if (active === 0) {
          const waiting = idle;
          idle = [];
          for (const resolve of waiting) resolve();
        }
        pump();
      });
    }
  }

  /** Resolves when no handler runs. */
  function whenIdle(): Promise<void> {
    return active === 0 ? Promise.resolve() : new Promise((resolve) => idle.push(resolve));
  }

  async function handle(channel: ConfirmChannel, msg: ConsumeMessage, gone: AbortSignal) {
    // Made when first needed: most deliveries succeed at once and never wait on it.
    let either: AbortSignal | undefined;
    const signal = () => (either ??= AbortSignal.any([gone, stopping.signal]));
    let failures = 0;
    let transientFailures = 0;
    for (;;) {
      // A message on a dead channel will be redelivered elsewhere; do not touch it.
      if (gone.aborted) return;
      try {
        await opts.handler(msg, {
          attempt: failures + transientFailures + 1,
          get signal() {
            return signal();
          },
          released: gone,
        });
        ack(channel, msg);
        return;
      } catch (err) {
        if (gone.aborted) return;
        const context = {
          err,
          messageId: msg.properties.messageId as unknown,
          routingKey: msg.fields.routingKey,
        };
        if (isTransient(err) && !isPermanent(err)) {
          transientFailures++;
          log.warn({ ...context, attempt: transientFailures }, 'handler hit a dependency failure');
          await sleep(backoffDelay(transientFailures, backoff), signal());
          if (stopping.signal.aborted) return;
          continue;
        }
        failures++;
        if (isPermanent(err) || failures >= maxAttempts) {
          log.error({ ...context, attempts: failures }, 'dead-lettering a message');
          await deadLetter(channel, msg, err, failures).catch((e: unknown) =>
            log.warn({ err: e }, 'dead-lettering failed; the message will be redelivered'),
          );
          return;
        }
        log.warn({ ...context, attempt: failures }, 'handler failed; retrying');
        await sleep(backoffDelay(failures, backoff), signal());
        if (stopping.signal.aborted) return;
      }
    }
  }

  /** Acks go out together at the end of the turn (see AckBatcher), or before a close. */
  function ack(channel: ConfirmChannel, msg: ConsumeMessage): void {
    acks.get(channel)?.ack(msg);
  }

  async function deadLetter(
    channel: ConfirmChannel,
    msg: ConsumeMessage,
    err: unknown,
    attempts: number,
  ): Promise<void> {
    const options = republishOptions(msg.properties, {
      ...(msg.properties.headers ?? {}),
      [DEAD_LETTER_HEADERS.reason]: describe(err).slice(0, 1000),
      [DEAD_LETTER_HEADERS.attempts]: attempts,
      [DEAD_LETTER_HEADERS.queue]: opts.queue,
      [DEAD_LETTER_HEADERS.exchange]: msg.fields.exchange,
      [DEAD_LETTER_HEADERS.routingKey]: msg.fields.routingKey,
      [DEAD_LETTER_HEADERS.failedAt]: new Date().toISOString(),
    });
    await new Promise<void>((resolve, reject) => {
      channel.publish(
        deadLetterExchangeName(opts.eventsExchange),
        opts.deadLetterKey ?? opts.queue,
        msg.content,
        options,
        (e: unknown) => (e ? reject(e instanceof Error ? e : new Error(String(e))) : resolve()),
      );
    });
    ack(channel, msg);
  }

  /** One channel's life: declare, consume, and return when it closes. */
  async function consumeOnce(): Promise<void> {
    const channel = await opts.connection.createConfirmChannel();
    const gone = new AbortController();
    const batcher = new AckBatcher(channel, (err) => log.debug({ err }, 'ack on a closed channel'));
    acks.set(channel, batcher);
    const closed = new Promise<void>((resolve) => {
      channel.on('close', () => {
        gone.abort();
        resolve();
      });
    });
    channel.on('error', (err: Error) => log.warn({ err: err.message }, 'channel error'));
    try {
      await channel.prefetch(prefetch);
      if (opts.declare) await opts.declare(channel);
      else {
        await declareConsumerQueue(channel, {
          queue: opts.queue,
          eventsExchange: opts.eventsExchange,
          bindings: opts.bindings ?? [],
          deliveryLimit: opts.deliveryLimit ?? 20,
        });
      }
      if (stopping.signal.aborted) {
        await channel.close();
        return;
      }
      const { consumerTag } = await channel.consume(
        opts.queue,
        (msg) => {
          if (msg === null) {
            // The broker cancelled us (queue deleted, node lost): start over on a new channel.
            log.warn('consumer cancelled by the broker');
            void channel.close().catch(() => undefined);
            return;
          }
          delivered = true;
          batcher.delivered(msg);
          queue.push({ msg, channel, gone: gone.signal });
          pump();
        },
        { noAck: false },
      );
      current = { channel, tag: consumerTag, gone, acks: batcher };
      consuming = true;
      log.info({ prefetch, concurrency }, 'consuming');
    } catch (err) {
      void channel.close().catch(() => undefined);
      throw err;
    }
    await closed;
    consuming = false;
    delivered = false;
    holding = false;
    current = undefined;
    // Deliveries of the dead channel still waiting to start are redelivered by the broker.
    for (let i = queue.length - 1; i >= 0; i--) if (queue[i]!.gone.aborted) queue.splice(i, 1);
  }

  const loop = (async () => {
    let failures = 0;
    while (!stopping.signal.aborted) {
      try {
        await consumeOnce();
        failures = 0;
      } catch (err) {
        failures++;
        if (!stopping.signal.aborted) log.warn({ err }, 'could not start consuming; retrying');
      }
      if (!stopping.signal.aborted) {
        await sleep(
          backoffDelay(Math.max(1, failures), { initialMs: 100, maxMs: 5000 }),
          stopping.signal,
        );
      }
    }
  })();

  return {
    get isConsuming() {
      return consuming;
    },
    get isActive() {
      return consuming && delivered;
    },
    async handOver() {
      const c = current;
      if (!c || stopping.signal.aborted) return;
      holding = true;
      await whenIdle();
      c.acks.flush();
      // Closing (not cancelling) the channel is what makes the broker pick the next consumer:
      // RabbitMQ 3.10 activates the next single active consumer on a basic.cancel at once,
      // while this one still holds unacked messages (docs/scaling.md).
      await c.channel.close().catch(() => undefined);
    },
    async stop(timeoutMs = 10_000) {
      if (stopping.signal.aborted) return;
      const c = current;
      // Not a basic.cancel: on a single-active-consumer queue that activates the next
      // consumer while these handlers still run. Start nothing more; close when they are done.
      holding = true;
      stopping.abort();
      queue.length = 0;
      if (active > 0) await Promise.race([whenIdle(), sleep(timeoutMs)]);
      c?.acks.flush();
      if (c) await c.channel.close().catch(() => undefined);
      await loop;
    },
  };
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
