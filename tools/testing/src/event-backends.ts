import {
  eventMessageBody,
  eventMessageHeaders,
  eventMessageProperties,
  routingKeyOf,
  type EventEnvelope,
} from '@cqrs/core';
import { connect, type ConfirmChannel } from 'amqplib';
import { createTestDatabase, type TestDatabase } from './database';
import { createTestIndexPrefix, type TestIndexPrefix } from './elasticsearch';
import { createTestVhost, type TestVhost } from './rabbitmq';

const EVENTS_EXCHANGE = 'events';

/**
 * What a spec of an event consumer (the query service) runs against: an index prefix, a
 * vhost and a database of its own, and a confirm channel that publishes events as the relay
 * does.
 */
export interface EventBackends {
  readonly es: TestIndexPrefix;
  readonly vhost: TestVhost;
  readonly db: TestDatabase;
  /** The settings of a service on them. */
  readonly urls: {
    readonly elasticsearchUrl: string;
    readonly indexPrefix: string;
    readonly amqpUrl: string;
    readonly eventsExchange: string;
    readonly mysqlUrl: string;
  };
  /** A confirm channel on the vhost (e.g. to publish what is not an event message). */
  readonly channel: ConfirmChannel;
  /**
   * Publishes events as the relay does (docs/api.md "Event messages", `@cqrs/core`'s
   * contract) and waits for the broker's confirms.
   */
  publish(events: readonly EventEnvelope[]): Promise<void>;
  /** Closes the channel and drops the index prefix, the vhost and the database. */
  close(): Promise<void>;
}

export async function createEventBackends(label: string): Promise<EventBackends> {
  const [es, vhost, db] = await Promise.all([
    createTestIndexPrefix(label),
    createTestVhost(label),
    createTestDatabase(label),
  ]);
  const amqp = await connect(vhost.url);
  const channel = await amqp.createConfirmChannel();
  return {
    es,
    vhost,
    db,
    urls: {
      elasticsearchUrl: es.url,
      indexPrefix: es.prefix,
      amqpUrl: vhost.url,
      eventsExchange: EVENTS_EXCHANGE,
      mysqlUrl: db.url,
    },
    channel,
    async publish(events) {
      for (const e of events) {
        channel.publish(
          EVENTS_EXCHANGE,
          routingKeyOf(e.streamType, e.type),
          Buffer.from(JSON.stringify(eventMessageBody(e))),
          {
            ...eventMessageProperties({ ...e, occurredAtMs: Date.parse(e.occurredAt) }),
            headers: eventMessageHeaders(e),
          },
        );
      }
      await channel.waitForConfirms();
    },
    async close() {
      await amqp.close().catch(() => undefined);
      await Promise.all([es.drop(), vhost.drop(), db.drop()]);
    },
  };
}
