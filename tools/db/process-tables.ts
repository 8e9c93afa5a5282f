import { ProcessTablesBuilder, type AggregateRegistry } from '@cqrs/aggregates';
import { readAll, replaceClaims, replaceDeadlines, toSqlDatetime } from '@cqrs/event-store';
import type { Knex } from 'knex';

export interface RebuildSummary {
  readonly events: number;
  readonly claims: number;
  readonly deadlines: number;
}

/**
 * Derives the `claims` and `deadlines` tables from the event log through the aggregates' own
 * claim and deadline functions, and replaces both (docs/room-calendar.md "Rebuilding"). Run
 * it with the command services stopped: an append committed meanwhile would be missing.
 */
export async function rebuildProcessTables(
  knex: Knex,
  aggregates: AggregateRegistry,
  delays: Readonly<Record<string, number>>,
): Promise<RebuildSummary> {
  const builder = new ProcessTablesBuilder(aggregates, delays);
  let after = '0';
  let events = 0;
  for (;;) {
    const page = await readAll(knex, { afterPosition: after, limit: 5000 });
    if (page.length === 0) break;
    for (const event of page) builder.apply(event);
    events += page.length;
    after = page[page.length - 1]!.position;
  }
  const claims = builder.claims();
  const deadlines = builder.deadlines();
  await replaceClaims(
    knex,
    claims.map((c) => ({ ...c, claimedAt: toSqlDatetime(c.claimedAt) })),
  );
  await replaceDeadlines(knex, deadlines);
  return { events, claims: claims.length, deadlines: deadlines.length };
}
