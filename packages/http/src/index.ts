export {
  createHttpServer,
  type HttpServer,
  type HttpServerOptions,
  type HealthCheck,
} from './server';
export {
  problem,
  toProblem,
  sendProblem,
  errorHandler,
  PROBLEM_CONTENT_TYPE,
  type Problem,
} from './problem';
export { createLogger } from './logger';
export { onShutdown, exitOnStartupError } from './shutdown';
export { requireBearer, requireAdmin } from './auth';
