export { connectAmqp, type AmqpConnection, type AmqpConnectionOptions } from './connection';
export {
  declareEventTopology,
  declareConsumerQueue,
  deadLetterExchangeName,
  deadLetterQueueName,
  type ConsumerQueueSpec,
} from './topology';
export {
  startPartitionedConsumer,
  declarePartitionedQueues,
  partitionedQueueDepths,
  partitionQueueName,
  membersQueueName,
  STREAM_HASH_HEADER,
  type PartitionedQueues,
  type PartitionedConsumer,
  type PartitionedConsumerOptions,
} from './partitions';
export { AmqpEventSubscription, type AmqpEventSubscriptionOptions } from './event-subscription';
export { ConfirmPublisher, type ConfirmPublisherOptions } from './publisher';
export {
  startConsumer,
  DEAD_LETTER_HEADERS,
  type Consumer,
  type ConsumerOptions,
  type HandlerContext,
  type MessageHandler,
} from './consumer';
export { replayDeadLetters, replayDeadLetter, discardDeadLetter } from './dead-letters';
export { backoffDelay, sleep, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
