export { createKnex, type KnexOptions } from './knex';
export { migrate, rollbackAll } from './migrate';
export { readStream, readAll, headPosition, type ReadAllOptions } from './read';
export { parseJsonColumn, rowToEnvelope, toIsoMicros, toSqlDatetime, type EventRow } from './rows';
export { MySqlEventStore, type MySqlEventStoreOptions } from './mysql-event-store';
export { assertIdempotencyKey } from './idempotency';
export { toOutboxMessage, type OutboxMessage } from './outbox-message';
export { isConnectionFailure } from './db-errors';
export {
  rebuildProcessTables,
  type ProcessTablesDerivation,
  type RebuildSummary,
} from './process-tables';
