import type { Channel, Message } from 'amqplib';

/**
 * Acknowledges one channel's deliveries in few frames. What settles within one turn of the
 * event loop goes out together: one `basic.ack` with `multiple` for the run of settled
 * deliveries from the oldest one not acked yet, single acks for the others (a delivery still
 * being handled holds no later one back for longer than that turn). On a quorum queue every
 * ack frame is a settle command in the queue's Raft log: a projector batch of 1 000 events
 * settles with one instead of 1 000.
 */
export class AckBatcher {
  /** Every delivery not known to be acked yet, in delivery (tag) order, from `head`. */
  private unacked: Message[] = [];
  private head = 0;
  /** Settled, not acked yet. */
  private readonly settled = new Set<Message>();
  /** Acked singly while an older delivery was still unsettled. */
  private readonly single = new Set<Message>();
  private flushing: NodeJS.Immediate | undefined;

  constructor(
    private readonly channel: Channel,
    private readonly onClosed: (err: unknown) => void,
  ) {}

  delivered(msg: Message): void {
    this.unacked.push(msg);
  }

  ack(msg: Message): void {
    this.settled.add(msg);
    this.flushing ??= setImmediate(() => this.flush());
  }

  /** Sends what is settled now (before the channel closes, or at the end of the turn). */
  flush(): void {
    clearImmediate(this.flushing);
    this.flushing = undefined;
    if (this.settled.size === 0) return;
    let upTo: Message | undefined;
    while (this.head < this.unacked.length) {
      const msg = this.unacked[this.head]!;
      if (this.settled.delete(msg)) upTo = msg;
      else if (!this.single.delete(msg)) break;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.unacked.length) {
      this.unacked = this.unacked.slice(this.head);
      this.head = 0;
    }
    try {
      // `multiple` acks every delivery up to it that is still unacked: all of them settled.
      if (upTo) this.channel.ack(upTo, true);
      for (const msg of this.settled) {
        this.channel.ack(msg);
        this.single.add(msg);
      }
    } catch (err) {
      // The channel closed meanwhile: the broker redelivers the messages.
      this.onClosed(err);
    }
    this.settled.clear();
  }
}
