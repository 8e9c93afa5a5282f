export { startHeartbeat, type Heartbeat, type HeartbeatOptions } from './heartbeat';
export { listInstances, type InstanceRecord } from './registry';
