import { DependencyUnavailableError, ValidationError } from '@cqrs/core';
import { createTestVhost, waitUntil, type TestVhost } from '@cqrs/testing';
import type { GetMessage } from 'amqplib';
import pino from 'pino';
import {
  ConfirmPublisher,
  connectAmqp,
  DEAD_LETTER_HEADERS,
  deadLetterQueueName,
  replayDeadLetters,
  replayDeadLetter,
  discardDeadLetter,
  startConsumer,
  type AmqpConnection,
  type Consumer,
  type MessageHandler,
} from './index';

const logger = pino({ level: 'silent' });
const EXCHANGE = 'events';
const fastBackoff = { initialMs: 5, maxMs: 20 };

describe('amqp: recovering connection, confirm publisher, consumer', () => {
  let vhost: TestVhost;
  let conn: AmqpConnection;
  let publisher: ConfirmPublisher;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    vhost = await createTestVhost('amqp');
    conn = await connectAmqp({
      url: vhost.url,
      name: 'amqp-test',
      logger,
      eventsExchange: EXCHANGE,
    });
    await conn.waitForConnect();
    publisher = new ConfirmPublisher(conn, { logger, maxInFlight: 16 });
  });
  afterAll(async () => {
    for (const c of consumers) await c.stop(2000);
    await publisher.close();
    await conn.close();
    await vhost.drop();
  });

  const publish = (routingKey: string, body: unknown, messageId: string) =>
    publisher.publish(EXCHANGE, routingKey, Buffer.from(JSON.stringify(body)), {
      persistent: true,
      contentType: 'application/json',
      messageId,
    });

  async function consume(
    queue: string,
    handler: MessageHandler,
    extra: { maxAttempts?: number } = {},
  ): Promise<Consumer> {
    const c = await startConsumer({
      connection: conn,
      logger,
      queue,
      eventsExchange: EXCHANGE,
      bindings: [`${queue}.#`],
      handler,
      prefetch: 20,
      backoff: fastBackoff,
      ...extra,
    });
    consumers.push(c);
    await waitUntil('consumer ready', () => c.isConsuming);
    return c;
  }

  it('pipelines publishes in order without exceeding the in-flight window', async () => {
    const seen: number[] = [];
    await consume('order', async (msg) => {
      seen.push((JSON.parse(msg.content.toString()) as { n: number }).n);
    });
    let maxSeen = 0;
    const confirms: Promise<void>[] = [];
    for (let n = 0; n < 300; n++) {
      const sent = await publisher.send(
        EXCHANGE,
        'order.Happened',
        Buffer.from(JSON.stringify({ n })),
        { persistent: true, messageId: `m-${n}` },
      );
      maxSeen = Math.max(maxSeen, publisher.unconfirmed);
      confirms.push(sent.confirmed);
    }
    await Promise.all(confirms);
    expect(maxSeen).toBeLessThanOrEqual(16);
    await waitUntil('all consumed', () => seen.length === 300);
    expect(seen).toEqual([...Array(300).keys()]);
  });

  it('retries a failing handler with backoff and acks once it succeeds', async () => {
    const attempts: number[] = [];
    await consume('flaky', async (_msg, ctx) => {
      attempts.push(ctx.attempt);
      if (ctx.attempt < 3) throw new Error('not yet');
    });
    await publish('flaky.Happened', { ok: true }, 'flaky-1');
    await waitUntil('handled', () => attempts.length === 3);
    expect(attempts).toEqual([1, 2, 3]);
    const ch = await conn.createChannel();
    await waitUntil('acked', async () => (await ch.checkQueue('flaky')).messageCount === 0);
    expect((await ch.checkQueue(deadLetterQueueName('flaky'))).messageCount).toBe(0);
    await ch.close();
  });

  it('dead-letters with the reason after maxAttempts, at once for a permanent error, and replays', async () => {
    const calls = new Map<string, number>();
    let healed = false;
    await consume(
      'poison',
      async (msg) => {
        const id = msg.properties.messageId as string;
        calls.set(id, (calls.get(id) ?? 0) + 1);
        if (healed) return;
        if (id === 'bad-shape') throw new ValidationError('data.name is required');
        throw new Error('cannot project this');
      },
      { maxAttempts: 3 },
    );
    await publish('poison.Happened', { n: 1 }, 'always-fails');
    await publish('poison.Happened', { n: 2 }, 'bad-shape');

    const ch = await conn.createChannel();
    const dlq = deadLetterQueueName('poison');
    await waitUntil('dead-lettered', async () => (await ch.checkQueue(dlq)).messageCount === 2);
    expect(calls.get('always-fails')).toBe(3);
    expect(calls.get('bad-shape')).toBe(1);
    const dead: GetMessage[] = [];
    for (;;) {
      const m = await ch.get(dlq, { noAck: false });
      if (m === false) break;
      dead.push(m);
    }
    const byId = new Map(dead.map((m) => [m.properties.messageId as string, m]));
    const failed = byId.get('always-fails')!.properties.headers!;
    expect(failed[DEAD_LETTER_HEADERS.reason]).toBe('Error: cannot project this');
    expect(failed[DEAD_LETTER_HEADERS.attempts]).toBe(3);
    expect(failed[DEAD_LETTER_HEADERS.routingKey]).toBe('poison.Happened');
    expect(byId.get('bad-shape')!.properties.headers![DEAD_LETTER_HEADERS.reason]).toMatch(
      /ValidationError: data.name is required/,
    );
    ch.nackAll(true);

    healed = true;
    await waitUntil('back in the dlq', async () => (await ch.checkQueue(dlq)).messageCount === 2);
    expect(await replayDeadLetters(conn, 'poison')).toBe(2);
    await waitUntil('replayed and handled', () => calls.get('always-fails') === 4);
    await waitUntil('dlq empty', async () => (await ch.checkQueue(dlq)).messageCount === 0);
    await ch.close();
  });

  it('replays or discards one dead letter by message id, leaving the others in place', async () => {
    let healed = false;
    const handled: string[] = [];
    await consume('one-by-one', async (msg) => {
      if (!healed) throw new ValidationError('not yet');
      handled.push(msg.properties.messageId as string);
    });
    for (const id of ['m-1', 'm-2', 'm-3']) await publish('one-by-one.Happened', { id }, id);
    const ch = await conn.createChannel();
    const dlq = deadLetterQueueName('one-by-one');
    try {
      await waitUntil('dead-lettered', async () => (await ch.checkQueue(dlq)).messageCount === 3);
      healed = true;

      expect(await discardDeadLetter(conn, 'one-by-one', 'm-2')).toBe(true);
      expect(await discardDeadLetter(conn, 'one-by-one', 'm-2')).toBe(false);
      expect(await replayDeadLetter(conn, 'one-by-one', 'm-3')).toBe(true);
      await waitUntil('m-3 handled', () => handled.includes('m-3'));
      await waitUntil('m-1 left', async () => (await ch.checkQueue(dlq)).messageCount === 1);
      const left = await ch.get(dlq, { noAck: false });
      expect(left && left.properties.messageId).toBe('m-1');
      expect(handled).toEqual(['m-3']);
    } finally {
      await ch.close();
    }
  });

  it('keeps retrying a dependency failure beyond maxAttempts instead of dead-lettering', async () => {
    let calls = 0;
    await consume(
      'outage',
      async () => {
        calls++;
        if (calls <= 5) throw new DependencyUnavailableError('elasticsearch', 'down');
      },
      { maxAttempts: 2 },
    );
    await publish('outage.Happened', {}, 'o-1');
    await waitUntil('handled after the outage', () => calls === 6);
    const ch = await conn.createChannel();
    await waitUntil('acked', async () => (await ch.checkQueue('outage')).messageCount === 0);
    expect((await ch.checkQueue(deadLetterQueueName('outage'))).messageCount).toBe(0);
    await ch.close();
  });

  it('publisher and consumer recover when the broker drops every connection', async () => {
    const seen = new Set<string>();
    const consumer = await consume('recovery', async (msg) => {
      seen.add(msg.properties.messageId as string);
    });
    await publish('recovery.Happened', {}, 'before');
    await waitUntil('first consumed', () => seen.has('before'));

    // The management API lists a connection only after its first stats tick.
    await waitUntil('connections dropped', async () => (await vhost.closeConnections()) > 0);
    await waitUntil('disconnected', () => !conn.isConnected || !consumer.isConsuming, 5000, 5);
    // Published while the connection is being recovered: send() waits for a new channel.
    await publish('recovery.Happened', {}, 'after');
    await waitUntil('consumer back', () => consumer.isConsuming);
    await waitUntil('second consumed', () => seen.has('after'));
    expect(conn.isConnected).toBe(true);
  });
});
