import type { Channel, Message } from 'amqplib';
import { AckBatcher } from './acks';

const message = (deliveryTag: number) => ({ fields: { deliveryTag } }) as Message;

/** The acks a channel sent, as `tag` or `tag+` (multiple). */
function recording() {
  const sent: string[] = [];
  const channel = {
    ack: (m: Message, multiple = false) =>
      sent.push(`${m.fields.deliveryTag}${multiple ? '+' : ''}`),
  } as unknown as Channel;
  return { sent, batcher: new AckBatcher(channel, () => undefined) };
}

describe('AckBatcher', () => {
  it('acks what settled in one turn as one multiple ack, and singly past an unsettled one', () => {
    const { sent, batcher } = recording();
    const m = [1, 2, 3, 4, 5].map(message);
    for (const msg of m) batcher.delivered(msg);
    batcher.ack(m[1]!);
    batcher.ack(m[0]!);
    batcher.ack(m[3]!);
    batcher.flush();
    expect(sent).toEqual(['2+', '4']);
    // 3 settles: the run from the oldest unacked one (3) goes past 4 (acked singly) and
    // stops at 5 - one multiple ack of 3.
    batcher.ack(m[2]!);
    batcher.flush();
    expect(sent).toEqual(['2+', '4', '3+']);
    batcher.ack(m[4]!);
    batcher.flush();
    expect(sent).toEqual(['2+', '4', '3+', '5+']);
  });

  it('sends at the end of the turn by itself', async () => {
    const { sent, batcher } = recording();
    const m = [1, 2, 3].map(message);
    for (const msg of m) batcher.delivered(msg);
    for (const msg of m) batcher.ack(msg);
    expect(sent).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual(['3+']);
  });
});
