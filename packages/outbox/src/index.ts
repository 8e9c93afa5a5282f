export { OutboxRelay, type OutboxRelayOptions } from './outbox-relay';
export {
  MySqlLeaderLock,
  defaultLockName,
  type LeaderLock,
  type MySqlLeaderLockOptions,
} from './leader-lock';
export { toOutgoingMessage, type OutboxRow, type OutgoingEventMessage } from './outbox-message';
export {
  fetchUnpublished,
  fetchUnpublishedIds,
  fetchOutboxRows,
  markPublished,
  purgePublished,
  outboxStats,
  type OutboxStats,
} from './outbox-store';
export {
  parkOutboxRow,
  requeueParkedRow,
  listParkedRows,
  unpublishedHead,
  type ParkedRow,
  type UnpublishedRow,
} from './parking';
export { createRelayMetrics, type RelayMetrics } from './relay-metrics';
