export { startHeartbeat, type Heartbeat, type HeartbeatOptions } from './heartbeat';
export { listInstances, type InstanceRecord } from './registry';
export { runInstance, type RunInstanceOptions, type InstanceConfig, type RunningApp } from './run';
