import type { Channel } from 'amqplib';
import { sleep } from './backoff';
import type { AmqpConnection } from './connection';
import { startConsumer, type Consumer, type ConsumerOptions } from './consumer';
import {
  deadLetterQueueName,
  declareDeadLetterQueue,
  declareEventTopology,
  quorumQueueArguments,
} from './topology';

/**
 * A consumer whose work is split by stream over `partitions` queues: `<name>` is an
 * `x-consistent-hash` exchange bound to the events exchange with `#`, hashing a header
 * (the stream id) onto the queues `<name>.p0` ... `<name>.p<P-1>`; dead letters of all of
 * them go to `<name>.dlq`; `<name>.members` counts the instances (docs/scaling.md).
 */
export interface PartitionedQueues {
  readonly name: string;
  readonly partitions: number;
}

export const partitionQueueName = (name: string, partition: number) => `${name}.p${partition}`;
export const membersQueueName = (name: string) => `${name}.members`;

/** The header the relay sets on every event message that names its stream. */
export const STREAM_HASH_HEADER = 'stream-id';

/**
 * Declares one partition queue (quorum, single active consumer) and what it hangs on: the
 * hash exchange, its binding to the events exchange and the shared dead-letter queue.
 * Idempotent; the public events exchange and its routing keys are untouched.
 */
export async function declarePartition(
  channel: Channel,
  spec: PartitionedQueues & { readonly eventsExchange: string; readonly deliveryLimit: number },
  partition: number,
): Promise<void> {
  await declareEventTopology(channel, spec.eventsExchange);
  await channel.assertExchange(spec.name, 'x-consistent-hash', {
    durable: true,
    arguments: { 'hash-header': STREAM_HASH_HEADER },
  });
  await channel.bindExchange(spec.name, spec.eventsExchange, '#');
  await declareDeadLetterQueue(channel, spec.eventsExchange, spec.name);
  const queue = partitionQueueName(spec.name, partition);
  await channel.assertQueue(queue, {
    durable: true,
    arguments: {
      ...quorumQueueArguments(spec.eventsExchange, spec.name, spec.deliveryLimit),
      'x-single-active-consumer': true,
    },
  });
  // The binding key of a consistent-hash exchange is the queue's weight: equal shares.
  await channel.bindQueue(queue, spec.name, '1');
}

/** Declares every partition of `<name>` (e.g. before publishing, so nothing is unroutable). */
export async function declarePartitionedQueues(
  channel: Channel,
  spec: PartitionedQueues & { readonly eventsExchange: string; readonly deliveryLimit: number },
): Promise<void> {
  for (let p = 0; p < spec.partitions; p++) await declarePartition(channel, spec, p);
}

export interface PartitionedConsumerOptions extends Omit<
  ConsumerOptions,
  'queue' | 'bindings' | 'declare' | 'deadLetterKey'
> {
  readonly name: string;
  readonly partitions: number;
  /** How often an instance compares its active partitions with its share (default 2000 ms). */
  readonly rebalanceEveryMs?: number;
}

export interface PartitionedConsumer extends Consumer {
  /** Partitions this instance is the active consumer of (as far as deliveries show). */
  readonly activePartitions: readonly number[];
}

/**
 * Consumes every partition of `<name>` as one of any number of instances. Each instance
 * subscribes to all P queues; the broker's single active consumer lets one instance at a
 * time take a partition, in order, and activates the next subscriber when that instance's
 * channel closes (it died, or handed the partition over). Balance without a coordinator:
 * every instance counts the instances (consumers of `<name>.members`), and one holding
 * more than its share (ceil(P / instances)) hands one partition over per round - drain,
 * close, subscribe again at the end of the line - so a new instance gets work without a
 * restart of the others.
 */
export async function startPartitionedConsumer(
  opts: PartitionedConsumerOptions,
): Promise<PartitionedConsumer> {
  const log = opts.logger.child({ component: 'partitions', name: opts.name });
  const spec = {
    name: opts.name,
    partitions: opts.partitions,
    eventsExchange: opts.eventsExchange,
    deliveryLimit: opts.deliveryLimit ?? 20,
  };
  const members = await startConsumer({
    ...opts,
    queue: membersQueueName(opts.name),
    prefetch: 1,
    concurrency: 1,
    declare: async (channel) => {
      await channel.assertQueue(membersQueueName(opts.name), {
        durable: true,
        arguments: { 'x-queue-type': 'quorum' },
      });
    },
    // Nothing is ever published to the members queue.
    handler: () => Promise.resolve(),
  });
  const partitions: Consumer[] = [];
  for (let p = 0; p < opts.partitions; p++) {
    partitions.push(
      await startConsumer({
        ...opts,
        queue: partitionQueueName(opts.name, p),
        deadLetterKey: opts.name,
        declare: (channel) => declarePartition(channel, spec, p),
      }),
    );
  }
  const activePartitions = () => partitions.flatMap((c, p) => (c.isActive ? [p] : []));

  const stopping = new AbortController();
  const every = opts.rebalanceEveryMs ?? 2000;
  const rebalancing = (async () => {
    while (!stopping.signal.aborted) {
      // Jitter: instances that started together do not hand over in lockstep.
      await sleep(every * (0.75 + Math.random() / 2), stopping.signal);
      if (stopping.signal.aborted) return;
      try {
        await rebalance();
      } catch (err) {
        log.warn({ err }, 'rebalance round failed');
      }
    }
  })();

  async function rebalance(): Promise<void> {
    const instances = await countMembers(opts.connection, opts.name);
    if (instances === 0) return;
    const share = Math.ceil(opts.partitions / instances);
    const active = activePartitions();
    if (active.length <= share || stopping.signal.aborted) return;
    const partition = active[Math.floor(Math.random() * active.length)]!;
    log.info({ partition, active, instances, share }, 'handing a partition over');
    const started = Date.now();
    await partitions[partition]!.handOver();
    log.info({ partition, drainedMs: Date.now() - started }, 'partition handed over');
  }

  return {
    get isConsuming() {
      return partitions.every((c) => c.isConsuming);
    },
    get isActive() {
      return partitions.some((c) => c.isActive);
    },
    get activePartitions() {
      return activePartitions();
    },
    async handOver() {
      await Promise.all(partitions.map((c) => c.handOver()));
    },
    async stop(timeoutMs?: number) {
      stopping.abort();
      await rebalancing;
      await Promise.all(partitions.map((c) => c.stop(timeoutMs)));
      await members.stop(timeoutMs);
    },
  };
}

/** Instances consuming `<name>`: the consumers of its members queue. */
async function countMembers(connection: AmqpConnection, name: string): Promise<number> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    return (await channel.checkQueue(membersQueueName(name))).consumerCount;
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/** Messages waiting in the partitions of `<name>` and in its dead-letter queue. */
export async function partitionedQueueDepths(
  connection: AmqpConnection,
  queues: PartitionedQueues,
): Promise<{ ready: number; deadLetters: number; partitions: number[] }> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    const partitions: number[] = [];
    for (let p = 0; p < queues.partitions; p++) {
      partitions.push((await channel.checkQueue(partitionQueueName(queues.name, p))).messageCount);
    }
    const dlq = await channel.checkQueue(deadLetterQueueName(queues.name));
    return {
      ready: partitions.reduce((a, b) => a + b, 0),
      deadLetters: dlq.messageCount,
      partitions,
    };
  } finally {
    await channel.close().catch(() => undefined);
  }
}
