import {
  DependencyUnavailableError,
  type EventPublisher,
  type PublishProperties,
  type SentMessage,
} from '@cqrs/core';
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

/** A message written to a channel and not settled yet. */
interface Unconfirmed {
  readonly deadline: number;
  readonly channel: ConfirmChannel;
  settle(err: Error | undefined): void;
  done: boolean;
}

/**
 * Publishes over one confirm channel with a bounded window of unconfirmed messages.
 *
 * - `send()` resolves once the message is written to the channel, in call order; its
 *   `confirmed` promise settles later. Awaiting `send()` in a loop pipelines publishes while
 *   keeping their order on the wire. `trySend()` is the synchronous fast path of the same.
 * - Back-pressure: `send()` waits while `maxInFlight` messages are unconfirmed, and after a
 *   `publish` that returned false it waits for the channel's `drain`.
 * - When the channel or connection dies, amqplib fails every unconfirmed publish with
 *   `channel closed`; the next `send()` opens a new channel (waiting for the connection to
 *   recover). Whether a failed message reached the broker is unknown: callers re-send it,
 *   which makes delivery at-least-once.
 */
export class ConfirmPublisher implements EventPublisher {
  private readonly log: Logger;
  private readonly maxInFlight: number;
  private readonly confirmTimeoutMs: number;
  private channel: ConfirmChannel | undefined;
  private opening: Promise<ConfirmChannel> | undefined;
  private drained: Promise<void> | undefined;
  private inFlight = 0;
  /** `send()` calls that have not written yet: `trySend()` must not overtake them. */
  private sending = 0;
  private readonly slotWaiters: Array<() => void> = [];
  private closed = false;
  // Unconfirmed messages in send order. All share one timeout, so their deadlines are in
  // this order too and one timer, armed for the oldest, serves them all.
  private unconfirmedQueue: Unconfirmed[] = [];
  private queueHead = 0;
  private timer: NodeJS.Timeout | undefined;

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
    options: PublishProperties,
    signal?: AbortSignal,
  ): Promise<SentMessage> {
    this.sending++;
    let channel: ConfirmChannel;
    try {
      await this.acquireSlot(signal);
      try {
        channel = this.channel ?? (await abortable(this.openChannel(), signal));
        if (this.drained) await abortable(this.drained, signal);
        if (this.closed) throw new DependencyUnavailableError('rabbitmq', 'publisher is closed');
        signal?.throwIfAborted();
      } catch (err) {
        this.releaseSlot();
        throw err;
      }
    } finally {
      this.sending--;
    }
    return this.write(channel, exchange, routingKey, content, options);
  }

  /**
   * `send()` without waiting: writes the message now if the window has room, the channel is
   * open and no earlier `send()` is still waiting; otherwise returns undefined and sends
   * nothing (then `send()` it). Saves a producer that keeps the window full a few promises
   * and event-loop turns per message.
   */
  trySend(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: PublishProperties,
  ): SentMessage | undefined {
    const channel = this.channel;
    if (
      !channel ||
      this.closed ||
      this.drained ||
      this.sending > 0 ||
      this.inFlight >= this.maxInFlight
    ) {
      return undefined;
    }
    this.inFlight++;
    return this.write(channel, exchange, routingKey, content, options);
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
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const ch = this.channel;
    this.channel = undefined;
    for (const w of this.slotWaiters.splice(0)) w();
    if (ch) await ch.close().catch(() => undefined);
  }

  /** Publishes on `channel`, holding a slot already. */
  private write(
    channel: ConfirmChannel,
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Options.Publish,
  ): SentMessage {
    let resolveConfirm!: () => void;
    let rejectConfirm!: (err: Error) => void;
    const confirmed = new Promise<void>((resolve, reject) => {
      resolveConfirm = resolve;
      rejectConfirm = reject;
    });
    // Callers may look at `confirmed` only later; never let it count as unhandled.
    confirmed.catch(() => undefined);
    const entry: Unconfirmed = {
      deadline: Date.now() + this.confirmTimeoutMs,
      channel,
      done: false,
      settle: (err) => {
        if (entry.done) return;
        entry.done = true;
        this.releaseSlot();
        this.dropSettledHead();
        if (err) {
          rejectConfirm(
            new DependencyUnavailableError('rabbitmq', `publish not confirmed: ${err.message}`, {
              cause: err,
            }),
          );
        } else resolveConfirm();
      },
    };
    this.unconfirmedQueue.push(entry);
    if (!this.timer) this.arm(this.confirmTimeoutMs);
    try {
      const ok = channel.publish(exchange, routingKey, content, options, (err: unknown) =>
        entry.settle(err ? toError(err) : undefined),
      );
      if (!ok) this.waitForDrain(channel);
    } catch (err) {
      // The channel closed between opening and publishing (amqplib throws synchronously).
      entry.settle(toError(err));
    }
    return { confirmed };
  }

  /** Fails the messages whose confirm is overdue, then re-arms the timer for the oldest left. */
  private expire(): void {
    this.timer = undefined;
    const now = Date.now();
    for (;;) {
      this.dropSettledHead();
      const oldest = this.unconfirmedQueue[this.queueHead];
      if (!oldest) return;
      if (oldest.deadline > now) return this.arm(oldest.deadline - now);
      oldest.settle(new Error(`no confirm within ${this.confirmTimeoutMs} ms`));
      // A late confirm could no longer be matched to a caller: start over on a new channel.
      this.recycle(oldest.channel, 'confirm timeout');
    }
  }

  private arm(ms: number): void {
    // Never the reason a process stays up: an unconfirmed message has an open socket anyway.
    this.timer = setTimeout(() => this.expire(), ms).unref();
  }

  private dropSettledHead(): void {
    const q = this.unconfirmedQueue;
    while (this.queueHead < q.length && q[this.queueHead]!.done) this.queueHead++;
    // The timer stays armed when the queue empties: it fires once, finds nothing and is not
    // re-armed, which is cheaper than clearing and re-arming it per message.
    if (this.queueHead === q.length) {
      this.unconfirmedQueue = [];
      this.queueHead = 0;
    } else if (this.queueHead > 1024 && this.queueHead * 2 > q.length) {
      this.unconfirmedQueue = q.slice(this.queueHead);
      this.queueHead = 0;
    }
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
