import type { AmqpConnection } from '@cqrs/amqp';
import type { StreamVersion } from '@cqrs/core';
import type { Channel } from 'amqplib';
import type { Logger } from 'pino';

/** What the projector tells every query-service instance after a batch is searchable. */
export interface ProgressMessage {
  /** `[streamType, streamId, version]` reached in every read model. */
  readonly streams: ReadonlyArray<readonly [string, string, number]>;
  /** Highest global position applied so far. */
  readonly position: string;
}

export const toProgress = (
  streams: readonly StreamVersion[],
  position: string,
): ProgressMessage => ({
  streams: streams.map((s) => [s.streamType, s.streamId, s.version] as const),
  position,
});

export const fromProgress = (m: ProgressMessage): StreamVersion[] =>
  m.streams.map(([streamType, streamId, version]) => ({ streamType, streamId, version }));

/**
 * A fanout exchange carrying projector progress to API instances in other processes. Each
 * subscriber has an exclusive, auto-deleted queue: progress is only interesting live (a
 * restarted instance looks versions up once per unknown stream instead). Best effort: a
 * lost message delays a waiting read until a later batch of that stream or its timeout.
 */
export class ProgressBus {
  private publishChannel: Promise<Channel> | undefined;
  private stopped = false;
  private subscription: Channel | undefined;

  constructor(
    private readonly connection: AmqpConnection,
    private readonly exchange: string,
    private readonly logger: Logger,
  ) {}

  async publish(message: ProgressMessage): Promise<void> {
    try {
      this.publishChannel ??= this.openChannel();
      const channel = await this.publishChannel;
      channel.publish(this.exchange, '', Buffer.from(JSON.stringify(message)), {
        contentType: 'application/json',
      });
    } catch (err) {
      this.publishChannel = undefined;
      this.logger.warn({ err }, 'could not publish projector progress');
    }
  }

  /** Calls `onProgress` for every message until `close`; resubscribes after reconnects. */
  subscribe(onProgress: (m: ProgressMessage) => void): void {
    const loop = async () => {
      while (!this.stopped) {
        try {
          const channel = await this.connection.createChannel();
          this.subscription = channel;
          const closed = new Promise<void>((resolve) => channel.once('close', () => resolve()));
          channel.on('error', () => undefined);
          await channel.assertExchange(this.exchange, 'fanout', { durable: true });
          const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
          await channel.bindQueue(queue, this.exchange, '');
          await channel.consume(
            queue,
            (msg) => {
              if (!msg) return;
              try {
                onProgress(JSON.parse(msg.content.toString('utf8')) as ProgressMessage);
              } catch (err) {
                this.logger.warn({ err }, 'ignoring a malformed progress message');
              }
            },
            { noAck: true },
          );
          await closed;
        } catch (err) {
          if (!this.stopped) this.logger.warn({ err }, 'progress subscription failed; retrying');
        }
        if (!this.stopped) await new Promise((r) => setTimeout(r, 500));
      }
    };
    void loop();
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.subscription?.close().catch(() => undefined);
    const publishing = this.publishChannel;
    this.publishChannel = undefined;
    await publishing?.then((c) => c.close()).catch(() => undefined);
  }

  private async openChannel(): Promise<Channel> {
    const channel = await this.connection.createChannel();
    channel.on('error', () => undefined);
    channel.once('close', () => (this.publishChannel = undefined));
    await channel.assertExchange(this.exchange, 'fanout', { durable: true });
    return channel;
  }
}
