import { connect, type ChannelModel } from 'amqplib';
import { createTestVhost, type TestVhost } from '@cqrs/testing';

describe('RabbitMQ (smoke)', () => {
  let vhost: TestVhost;
  let conn: ChannelModel;
  beforeAll(async () => {
    vhost = await createTestVhost('smoke_amqp');
    conn = await connect(vhost.url);
  });
  afterAll(async () => {
    await conn.close();
    await vhost.drop();
  });

  it('publishes with a confirm channel and consumes with a manual ack', async () => {
    const pub = await conn.createConfirmChannel();
    await pub.assertExchange('events', 'topic', { durable: true });
    const q = await pub.assertQueue('smoke', { durable: true });
    await pub.bindQueue(q.queue, 'events', 'smoke.#');
    pub.publish('events', 'smoke.Hello', Buffer.from(JSON.stringify({ n: 1 })), {
      persistent: true,
      messageId: 'm-1',
      contentType: 'application/json',
    });
    await pub.waitForConfirms();

    const sub = await conn.createChannel();
    await sub.prefetch(10);
    const received = await new Promise<{ body: unknown; messageId: string }>((resolve) => {
      void sub.consume(
        q.queue,
        (msg) => {
          if (!msg) return;
          sub.ack(msg);
          resolve({
            body: JSON.parse(msg.content.toString()),
            messageId: msg.properties.messageId as string,
          });
        },
        { noAck: false },
      );
    });
    console.log(`smoke: RabbitMQ vhost ${vhost.vhost} round trip ok`);
    expect(received).toEqual({ body: { n: 1 }, messageId: 'm-1' });
    const after = await sub.checkQueue(q.queue);
    expect(after.messageCount).toBe(0);
  });
});
