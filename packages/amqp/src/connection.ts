import {
  connect,
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type RecoveringChannelModel,
} from 'amqplib';
import type { Logger } from 'pino';
import { declareEventTopology } from './topology';

export interface AmqpConnectionOptions {
  /** `amqp://user:pass@host:port/vhost`. */
  readonly url: string;
  /** Shown as the connection name in the RabbitMQ management UI. */
  readonly name: string;
  readonly logger: Logger;
  /**
   * Runs on every (re)connect before the connection is handed out, e.g. to declare topology.
   * When it throws, the connection is dropped and retried with backoff.
   */
  readonly setup?: (model: ChannelModel) => Promise<void>;
  /**
   * The events topic exchange: when given, the event topology (`declareEventTopology`) is
   * declared on every (re)connect, before `setup`.
   */
  readonly eventsExchange?: string;
  /** Heartbeat in seconds (default 10): how fast a silent broker is noticed. */
  readonly heartbeatSeconds?: number;
  readonly reconnectInitialDelayMs?: number;
  readonly reconnectMaxDelayMs?: number;
}

/**
 * One AMQP connection that survives broker restarts and dropped connections.
 *
 * amqplib 2.x recovers the *connection* only (its `recovery` option): channels, consumers and
 * a confirm channel's unconfirmed publishes die with the old socket - their callbacks get a
 * `channel closed` error - and must be recreated by their owners. The publisher and consumer
 * in this package do exactly that; `createChannel()` waits while the broker is away.
 */
export interface AmqpConnection {
  /** True while a live connection to the broker exists. */
  readonly isConnected: boolean;
  /** Resolves at the first successful connection (rejects when closed before). */
  waitForConnect(): Promise<void>;
  createChannel(): Promise<Channel>;
  createConfirmChannel(): Promise<ConfirmChannel>;
  close(): Promise<void>;
}

/**
 * Opens a recovering connection. It returns at once: the first connection is attempted in
 * the background and retried forever (a worker should start, report 503 on /health and
 * connect when the broker appears, rather than crash-loop).
 */
export async function connectAmqp(opts: AmqpConnectionOptions): Promise<AmqpConnection> {
  const log = opts.logger.child({ component: 'amqp', connection: opts.name });
  const setup = withEventTopology(opts.eventsExchange, opts.setup);
  const model: RecoveringChannelModel = await connect(
    withHeartbeat(opts.url, opts.heartbeatSeconds),
    {
      noDelay: true,
      timeout: 5000,
      clientProperties: { connection_name: opts.name },
      recovery: {
        initialDelay: opts.reconnectInitialDelayMs ?? 100,
        maxDelay: opts.reconnectMaxDelayMs ?? 5000,
        maxRetries: Infinity,
        waitForConnect: false,
        ...(setup ? { setup } : {}),
      },
    },
  );

  let connected = false;
  let closed = false;
  model.on('connect', () => {
    connected = true;
    log.info('connected to RabbitMQ');
  });
  model.on('disconnect', (err: Error) => {
    connected = false;
    if (!closed) log.warn({ err: err.message }, 'lost the RabbitMQ connection; reconnecting');
  });
  model.on('connect-failed', (err: Error) => log.warn({ err: err.message }, 'connect failed'));
  model.on('reconnect-failed', (err: Error) => log.error({ err }, 'gave up reconnecting'));
  // An 'error' without a listener would crash the process; the 'disconnect' that follows
  // drives recovery.
  model.on('error', (err: Error) => log.warn({ err: err.message }, 'connection error'));
  model.on('handler-error', (err: Error, event: string) =>
    log.error({ err, event }, 'a connection event handler threw'),
  );
  model.on('blocked', (reason: string) => log.warn({ reason }, 'broker blocked the connection'));
  model.on('unblocked', () => log.info('broker unblocked the connection'));

  return {
    get isConnected() {
      return connected;
    },
    async waitForConnect() {
      await model.waitForConnect();
    },
    createChannel: () => model.createChannel(),
    createConfirmChannel: () => model.createConfirmChannel(),
    async close() {
      closed = true;
      connected = false;
      await model.close();
    },
  };
}

/** amqplib takes the heartbeat from the URL; keep one the caller already put there. */
function withHeartbeat(url: string, seconds = 10): string {
  const u = new URL(url);
  if (!u.searchParams.has('heartbeat')) u.searchParams.set('heartbeat', String(seconds));
  return u.toString();
}

function withEventTopology(
  exchange: string | undefined,
  setup: AmqpConnectionOptions['setup'],
): AmqpConnectionOptions['setup'] {
  if (exchange === undefined) return setup;
  return async (model) => {
    const channel = await model.createChannel();
    try {
      await declareEventTopology(channel, exchange);
    } finally {
      await channel.close();
    }
    await setup?.(model);
  };
}
