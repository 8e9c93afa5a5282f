import { startConsumer, type AmqpConnection, type Consumer } from '@cqrs/amqp';
import type { ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';

export interface RecordedMessage {
  readonly routingKey: string;
  readonly messageId: string;
  readonly properties: ConsumeMessage['properties'];
  readonly body: {
    readonly eventId: string;
    readonly streamType: string;
    readonly streamId: string;
    readonly version: number;
    readonly [k: string]: unknown;
  };
}

export interface Recorder {
  readonly consumer: Consumer;
  readonly messages: RecordedMessage[];
  /** Distinct event ids seen so far. */
  readonly distinct: Set<string>;
  /** Per stream (`type:id`): the versions in order of first arrival (duplicates dropped). */
  firstArrivalVersions(): Map<string, number[]>;
  stop(): Promise<void>;
}

/**
 * Test fixture: "a consumer of our own bound to the exchange" - records every message the
 * relay publishes, through the same consumer helper the query service uses.
 */
export async function recordEvents(
  connection: AmqpConnection,
  exchange: string,
  queue: string,
  logger: Logger,
): Promise<Recorder> {
  const messages: RecordedMessage[] = [];
  const distinct = new Set<string>();
  const consumer = await startConsumer({
    connection,
    logger,
    queue,
    eventsExchange: exchange,
    bindings: ['#'],
    prefetch: 500,
    handler: async (msg) => {
      const rec: RecordedMessage = {
        routingKey: msg.fields.routingKey,
        messageId: msg.properties.messageId as string,
        properties: msg.properties,
        body: JSON.parse(msg.content.toString('utf8')) as RecordedMessage['body'],
      };
      messages.push(rec);
      distinct.add(rec.messageId);
    },
  });
  return {
    consumer,
    messages,
    distinct,
    firstArrivalVersions() {
      const seen = new Set<string>();
      const out = new Map<string, number[]>();
      for (const m of messages) {
        if (seen.has(m.messageId)) continue;
        seen.add(m.messageId);
        const key = `${m.body.streamType}:${m.body.streamId}`;
        const list = out.get(key) ?? [];
        list.push(m.body.version);
        out.set(key, list);
      }
      return out;
    },
    stop: () => consumer.stop(2000),
  };
}
