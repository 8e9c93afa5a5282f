import { EventEmitter } from 'node:events';
import type { ConfirmChannel } from 'amqplib';
import pino from 'pino';
import type { AmqpConnection } from './connection';
import { ConfirmPublisher } from './publisher';

type Callback = (err: unknown) => void;

/** A confirm channel that records publishes and confirms only when told to. */
class FakeChannel extends EventEmitter {
  readonly published: string[] = [];
  readonly pending = new Map<string, Callback>();
  closed = false;

  publish(_exchange: string, routingKey: string, _content: Buffer, _o: unknown, cb: Callback) {
    this.published.push(routingKey);
    this.pending.set(routingKey, cb);
    return true;
  }

  ack(routingKey: string): void {
    this.pending.get(routingKey)?.(null);
    this.pending.delete(routingKey);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // As amqplib: every unconfirmed publish fails with the channel.
    for (const cb of this.pending.values()) cb(new Error('channel closed'));
    this.pending.clear();
    this.emit('close');
  }
}

function fakeConnection() {
  const channels: FakeChannel[] = [];
  const connection = {
    isConnected: true,
    waitForConnect: async () => undefined,
    createChannel: async () => {
      throw new Error('not used');
    },
    createConfirmChannel: async () => {
      const ch = new FakeChannel();
      channels.push(ch);
      return ch as unknown as ConfirmChannel;
    },
    close: async () => undefined,
  } satisfies AmqpConnection;
  return { connection, channels };
}

const logger = pino({ level: 'silent' });
const body = Buffer.from('{}');
const settled = (p: Promise<void>) =>
  p.then(
    () => 'confirmed',
    (err: Error) => err.message,
  );

describe('ConfirmPublisher', () => {
  it('fails messages whose confirm is overdue, recycles the channel, and sends on a new one', async () => {
    const { connection, channels } = fakeConnection();
    const pub = new ConfirmPublisher(connection, { logger, maxInFlight: 10, confirmTimeoutMs: 50 });
    const a = await pub.send('x', 'a', body, {});
    const b = await pub.send('x', 'b', body, {});
    channels[0]!.ack('a');
    expect(await settled(a.confirmed)).toBe('confirmed');
    expect(await settled(b.confirmed)).toMatch(/no confirm within 50 ms/);
    expect(channels[0]!.closed).toBe(true);
    expect(pub.unconfirmed).toBe(0);

    const c = await pub.send('x', 'c', body, {});
    expect(channels).toHaveLength(2);
    expect(channels[1]!.published).toEqual(['c']);
    channels[1]!.ack('c');
    expect(await settled(c.confirmed)).toBe('confirmed');
    await pub.close();
  });

  it('trySend writes at once while the window has room and never overtakes a waiting send', async () => {
    const { connection, channels } = fakeConnection();
    const pub = new ConfirmPublisher(connection, { logger, maxInFlight: 2 });
    // No channel yet: only send() opens one.
    expect(pub.trySend('x', 'a', body, {})).toBeUndefined();
    const a = await pub.send('x', 'a', body, {});
    const b = pub.trySend('x', 'b', body, {});
    expect(b).toBeDefined();
    expect(pub.trySend('x', 'c', body, {})).toBeUndefined(); // the window is full

    const c = pub.send('x', 'c', body, {});
    channels[0]!.ack('a');
    // c waits for the slot a freed: d must not take it.
    expect(pub.trySend('x', 'd', body, {})).toBeUndefined();
    await c;
    expect(channels[0]!.published).toEqual(['a', 'b', 'c']);
    expect(await settled(a.confirmed)).toBe('confirmed');
    await pub.close();
    expect(await settled(b!.confirmed)).toMatch(/channel closed/);
  });
});
