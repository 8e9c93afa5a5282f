export { createTestDatabase, type TestDatabase } from './database';
export { createTestVhost, type TestVhost } from './rabbitmq';
export { createTestIndexPrefix, type TestIndexPrefix } from './elasticsearch';
export { uniqueName } from './names';
export { waitUntil } from './wait';
