export { createKnex, type KnexOptions } from './knex';
export { migrate, rollbackAll } from './migrate';
export { readStream, readAll, headPosition, type ReadAllOptions } from './read';
export { parseJsonColumn, rowToEnvelope, toIsoMicros, toSqlDatetime, type EventRow } from './rows';
