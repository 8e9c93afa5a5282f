import { commonEnv, readConfig } from '@cqrs/core';
import { createKnex, migrate } from '@cqrs/event-store';

/** `npm run migrate`: brings the event store schema at MYSQL_URL up to date. */
async function main(): Promise<void> {
  const { mysqlUrl } = readConfig({ mysqlUrl: commonEnv.mysqlUrl });
  const knex = createKnex(mysqlUrl, { poolMax: 2 });
  try {
    await migrate(knex);
    console.log('migrate: schema is up to date');
  } finally {
    await knex.destroy();
  }
}

main().catch((err: Error) => {
  console.error(`migrate: ${err.message}`);
  process.exit(1);
});
