export { createTestDatabase, type TestDatabase } from './database';
export { createTestVhost, type TestVhost } from './rabbitmq';
export { createTestIndexPrefix, type TestIndexPrefix } from './elasticsearch';
export { uniqueName } from './names';
export { waitUntil } from './wait';
export { createEventBackends, type EventBackends } from './event-backends';
export { AppProcess, freePort, type AppName } from './app-process';
export {
  contractDifferences,
  contractRoutes,
  type ContractRoute,
  type OpenApiDocument,
} from './api-contract';
export { CHROMIUM, ensureChromium, launchChromium, type TestBrowser } from './chromium';
