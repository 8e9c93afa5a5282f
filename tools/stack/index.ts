export { stackEnv, stackUp, stackDown, stackStatus, startedHere } from './stack';
export { fetchManagement, managementUrl } from './rabbitmq';
export { ES_VERSION } from './elasticsearch';
export type { ServiceName, StartedService } from './state';
export { ProgressLine, StatusLine } from './progress';
