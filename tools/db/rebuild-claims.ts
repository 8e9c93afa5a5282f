import { ProcessTablesBuilder } from '@cqrs/aggregates';
import { commonEnv, int, readConfig } from '@cqrs/core';
import { createKnex, migrate, rebuildProcessTables } from '@cqrs/event-store';
import { hotelAggregates } from '@cqrs/hotel';

/**
 * `npm run claims:rebuild`: the `claims` and `deadlines` tables derived again from the event
 * log (docs/room-calendar.md "Rebuilding"). Stop the command services first.
 */
async function main(): Promise<void> {
  const config = readConfig({
    mysqlUrl: commonEnv.mysqlUrl,
    reservationHoldMinutes: int('RESERVATION_HOLD_MINUTES', 15, 1, 7 * 24 * 60),
  });
  const knex = createKnex(config.mysqlUrl, { poolMax: 2 });
  try {
    await migrate(knex);
    const derivation = new ProcessTablesBuilder(hotelAggregates, {
      reservationHold: config.reservationHoldMinutes * 60_000,
    });
    const summary = await rebuildProcessTables(knex, derivation);
    console.log(
      `claims:rebuild: ${summary.events} events read, ${summary.claims} claims and ` +
        `${summary.deadlines} deadlines written`,
    );
  } finally {
    await knex.destroy();
  }
}

main().catch((err: Error) => {
  console.error(`claims:rebuild: ${err.message}`);
  process.exit(1);
});
