import { DependencyUnavailableError, ValidationError } from '@cqrs/core';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import { backoffDelay, DEFAULT_BACKOFF, sleep, type BackoffOptions } from './backoff';
import type { AmqpConnection } from './connection';
import { republishOptions } from './republish';
import { deadLetterExchangeName, declareConsumerQueue } from './topology';

export interface HandlerContext {
  /** 1 on the first try of this delivery, then 2, 3, ... on in-process retries. */
  readonly attempt: number;
  /** Aborted when the consumer stops or its channel dies: the message will be redelivered. */
  readonly signal: AbortSignal;
}

export type MessageHandler = (message: ConsumeMessage, ctx: HandlerContext) => Promise<void>;

export interface ConsumerOptions {
  readonly connection: AmqpConnection;
  readonly logger: Logger;
  /** The consumer's own durable quorum queue; its dead letters go to `<queue>.dlq`. */
  readonly queue: string;
  readonly eventsExchange: string;
  /** Topic patterns to bind, e.g. `['reservation.*', 'customer.*']` or `['#']`. */
  readonly bindings: readonly string[];
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
  let current: { channel: ConfirmChannel; tag: string; gone: AbortController } | undefined;
  const queue: Array<{ msg: ConsumeMessage; channel: ConfirmChannel; gone: AbortSignal }> = [];
  let active = 0;
  let idle: (() => void) | undefined;

  function pump(): void {
    while (active < concurrency && queue.length > 0) {
      const job = queue.shift()!;
      active++;
      void handle(job.channel, job.msg, job.gone).finally(() => {
        active--;
        if (active === 0 && queue.length === 0) idle?.();
        pump();
      });
    }
  }

  async function handle(channel: ConfirmChannel, msg: ConsumeMessage, gone: AbortSignal) {
    const signal = AbortSignal.any([gone, stopping.signal]);
    let failures = 0;
    let transientFailures = 0;
    for (;;) {
      // A message on a dead channel will be redelivered elsewhere; do not touch it.
      if (gone.aborted) return;
      try {
        await opts.handler(msg, { attempt: failures + transientFailures + 1, signal });
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
          await sleep(backoffDelay(transientFailures, backoff), signal);
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
        await sleep(backoffDelay(failures, backoff), signal);
        if (stopping.signal.aborted) return;
      }
    }
  }

  function ack(channel: ConfirmChannel, msg: ConsumeMessage): void {
    try {
      channel.ack(msg);
    } catch (err) {
      // The channel closed meanwhile: the broker redelivers the message.
      log.debug({ err }, 'ack on a closed channel');
    }
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
        opts.queue,
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
    const closed = new Promise<void>((resolve) => {
      channel.on('close', () => {
        gone.abort();
        resolve();
      });
    });
    channel.on('error', (err: Error) => log.warn({ err: err.message }, 'channel error'));
    try {
      await channel.prefetch(prefetch);
      await declareConsumerQueue(channel, {
        queue: opts.queue,
        eventsExchange: opts.eventsExchange,
        bindings: opts.bindings,
        deliveryLimit: opts.deliveryLimit ?? 20,
      });
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
          queue.push({ msg, channel, gone: gone.signal });
          pump();
        },
        { noAck: false },
      );
      current = { channel, tag: consumerTag, gone };
      consuming = true;
      log.info({ prefetch, concurrency }, 'consuming');
    } catch (err) {
      void channel.close().catch(() => undefined);
      throw err;
    }
    await closed;
    consuming = false;
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
    async stop(timeoutMs = 10_000) {
      if (stopping.signal.aborted) return;
      const c = current;
      if (c) await c.channel.cancel(c.tag).catch(() => undefined);
      stopping.abort();
      queue.length = 0;
      if (active > 0) {
        await Promise.race([new Promise<void>((resolve) => (idle = resolve)), sleep(timeoutMs)]);
      }
      if (c) await c.channel.close().catch(() => undefined);
      await loop;
    },
  };
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
