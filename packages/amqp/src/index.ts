export { connectAmqp, type AmqpConnection, type AmqpConnectionOptions } from './connection';
export {
  declareEventTopology,
  declareConsumerQueue,
  deadLetterExchangeName,
  deadLetterQueueName,
  type ConsumerQueueSpec,
} from './topology';
export { ConfirmPublisher, type ConfirmPublisherOptions } from './publisher';
export {
  startConsumer,
  DEAD_LETTER_HEADERS,
  type Consumer,
  type ConsumerOptions,
  type HandlerContext,
  type MessageHandler,
} from './consumer';
export { replayDeadLetters } from './dead-letters';
export { backoffDelay, sleep, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
