export { createTestDatabase, type TestDatabase } from './database';
export { createTestVhost, type TestVhost } from './rabbitmq';
export { createTestIndexPrefix, type TestIndexPrefix } from './elasticsearch';
export { uniqueName } from './names';
export { waitUntil } from './wait';
export { AppProcess, freePort, type AppName } from './app-process';
export {
  contractDifferences,
  contractRoutes,
  type ContractRoute,
  type OpenApiDocument,
} from './api-contract';
export { CHROMIUM, ensureChromium, launchChromium, type TestBrowser } from './chromium';
