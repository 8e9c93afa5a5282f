import type { MessageProperties, Options } from 'amqplib';

/**
 * Publish options that carry a received message on unchanged (id, type, timestamp, content
 * type...) with `headers` in place of its own - for dead-lettering and for replaying.
 */
export function republishOptions(
  p: MessageProperties,
  headers: Record<string, unknown>,
): Options.Publish {
  return {
    persistent: true,
    contentType: p.contentType as string | undefined,
    contentEncoding: p.contentEncoding as string | undefined,
    messageId: p.messageId as string | undefined,
    correlationId: p.correlationId as string | undefined,
    type: p.type as string | undefined,
    timestamp: p.timestamp as number | undefined,
    appId: p.appId as string | undefined,
    headers,
  };
}
