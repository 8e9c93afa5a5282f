export { buildPage, CONTENT_SECURITY_POLICY, type PageAssets } from './page';
export { consoleApiRoutes, pageRoutes, type ConsoleContext } from './routes';
export { QueryAdminClient, type AdminAnswer } from './query-admin';
export { managementUrlFor, queueStats, vhostOf, type QueueStats } from './rabbitmq-management';
export { lookUpStream, type StreamEvent, type StreamView } from './streams';
export { highlightedStatechart, stateIds, CURRENT_STATE_CLASS } from './statechart';
export {
  probeHealth,
  systemOverview,
  type DeadlineStats,
  type InstanceHealth,
  type InstanceView,
  type QueueView,
  type Section,
  type SystemOverview,
  type SystemSources,
} from './system';
