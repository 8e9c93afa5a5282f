import { DependencyUnavailableError } from '@cqrs/core';
import type { ConfirmChannel, Options } from 'amqplib';
import type { Logger } from 'pino';
import type { AmqpConnection } from './connection';

export interface ConfirmPublisherOptions {
  readonly logger: Logger;
  /** Messages sent but not yet confirmed, at most (default 256). */
  readonly maxInFlight?: number;
  /** A confirm that takes longer fails the message and recycles the channel (default 10 s). */
  readonly confirmTimeoutMs?: number;
}

/** A message handed to the broker; `confirmed` settles with the broker's ack or nack. */
export interface SentMessage {
  /** Resolves on the broker's ack; rejects (DependencyUnavailableError) on a nack, a closed channel or a timeout. */
  readonly confirmed: Promise<void>;
}

/**
 * Publishes over one confirm channel with a bounded window of unconfirmed messages.
 *
 * - `send()` resolves once the message is written to the channel, in call order; its
 *   `confirmed` promise settles later. Awaiting `send()` in a loop pipelines publishes while
 *   keeping their order on the wire.
 * - Back-pressure: `send()` waits while `maxInFlight` messages are unconfirmed, and after a
 *   `publish` that returned false it waits for the channel's `drain`.
 * - When the channel or connection dies, amqplib fails every unconfirmed publish with
 *   `channel closed`; the next `send()` opens a new channel (waiting for the connection to
 *   recover). Whether a failed message reached the broker is unknown: callers re-send it,
 *   which makes delivery at-least-once.
 */
export class ConfirmPublisher {
  private readonly log: Logger;
  private readonly maxInFlight: number;
  private readonly confirmTimeoutMs: number;
  private channel: ConfirmChannel | undefined;
  private opening: Promise<ConfirmChannel> | undefined;
  private drained: Promise<void> | undefined;
  private inFlight = 0;
  private readonly slotWaiters: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly connection: AmqpConnection,
    opts: ConfirmPublisherOptions,
  ) {
    this.log = opts.logger.child({ component: 'confirm-publisher' });
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 256);
    this.confirmTimeoutMs = opts.confirmTimeoutMs ?? 10_000;
  }

  /** Messages sent and not yet confirmed. */
  get unconfirmed(): number {
    return this.inFlight;
  }

  /**
   * Writes one message to the channel once the window has room. Rejects (and sends nothing)
   * when `signal` aborts first or no channel can be opened.
   */
  async send(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Options.Publish,
    signal?: AbortSignal,
  ): Promise<SentMessage> {
    await this.acquireSlot(signal);
    let channel: ConfirmChannel;
    try {
      channel = await abortable(this.openChannel(), signal);
      if (this.drained) await abortable(this.drained, signal);
      if (this.closed) throw new DependencyUnavailableError('rabbitmq', 'publisher is closed');
      signal?.throwIfAborted();
    } catch (err) {
      this.releaseSlot();
      throw err;
    }
    let settle!: (err: Error | undefined) => void;
    const confirmed = new Promise<void>((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => {
        settle(new Error(`no confirm within ${this.confirmTimeoutMs} ms`));
        // A late confirm could no longer be matched to a caller: start over on a new channel.
        this.recycle(channel, 'confirm timeout');
      }, this.confirmTimeoutMs);
      settle = (err) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.releaseSlot();
        if (err) {
          reject(
            new DependencyUnavailableError('rabbitmq', `publish not confirmed: ${err.message}`, {
              cause: err,
            }),
          );
        } else resolve();
      };
    });
    // Callers may look at `confirmed` only later; never let it count as unhandled.
    confirmed.catch(() => undefined);
    try {
      const ok = channel.publish(exchange, routingKey, content, options, (err: unknown) =>
        settle(err ? toError(err) : undefined),
      );
      if (!ok) this.waitForDrain(channel);
    } catch (err) {
      // The channel closed between opening and publishing (amqplib throws synchronously).
      settle(toError(err));
    }
    return { confirmed };
  }

  /** `send` and wait for the confirm. */
  async publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Options.Publish,
    signal?: AbortSignal,
  ): Promise<void> {
    const sent = await this.send(exchange, routingKey, content, options, signal);
    await sent.confirmed;
  }

  /** Closes the channel; unconfirmed messages fail. */
  async close(): Promise<void> {
    this.closed = true;
    const ch = this.channel;
    this.channel = undefined;
    for (const w of this.slotWaiters.splice(0)) w();
    if (ch) await ch.close().catch(() => undefined);
  }

  private openChannel(): Promise<ConfirmChannel> {
    if (this.closed)
      return Promise.reject(new DependencyUnavailableError('rabbitmq', 'publisher is closed'));
    if (this.channel) return Promise.resolve(this.channel);
    this.opening ??= this.connection
      .createConfirmChannel()
      .then((ch) => {
        ch.on('error', (err: Error) => this.log.warn({ err: err.message }, 'channel error'));
        ch.on('close', () => {
          if (this.channel === ch) this.channel = undefined;
        });
        if (this.closed) {
          void ch.close().catch(() => undefined);
          throw new DependencyUnavailableError('rabbitmq', 'publisher is closed');
        }
        this.channel = ch;
        this.drained = undefined;
        return ch;
      })
      .finally(() => {
        this.opening = undefined;
      });
    return this.opening;
  }

  private waitForDrain(channel: ConfirmChannel): void {
    if (this.drained) return;
    this.drained = new Promise<void>((resolve) => {
      const done = () => {
        channel.removeListener('drain', done);
        channel.removeListener('close', done);
        this.drained = undefined;
        resolve();
      };
      channel.once('drain', done);
      channel.once('close', done);
    });
  }

  private recycle(channel: ConfirmChannel, reason: string): void {
    if (this.channel !== channel) return;
    this.log.warn({ reason }, 'recycling the confirm channel');
    this.channel = undefined;
    void channel.close().catch(() => undefined);
  }

  private async acquireSlot(signal?: AbortSignal): Promise<void> {
    while (this.inFlight >= this.maxInFlight && !this.closed) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const i = this.slotWaiters.indexOf(wake);
          if (i >= 0) this.slotWaiters.splice(i, 1);
          reject(signal?.reason ?? new Error('aborted'));
        };
        const wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        this.slotWaiters.push(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    this.inFlight++;
  }

  private releaseSlot(): void {
    this.inFlight--;
    this.slotWaiters.shift()?.();
  }
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** `promise`, or a rejection as soon as `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
