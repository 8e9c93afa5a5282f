import type { ClaimKey, EventEnvelope } from '@cqrs/core';
import type { Knex } from 'knex';
import { replaceClaims } from './claims';
import { readAll } from './read';
import { replaceDeadlines, type DeadlineRowInput } from './deadlines';
import { toSqlDatetime } from './rows';

/**
 * What derives the claims and deadlines from the log (the aggregates' ProcessTablesBuilder):
 * fed every event in position order, then asked for the rows.
 */
export interface ProcessTablesDerivation {
  apply(event: EventEnvelope): void;
  claims(): readonly (ClaimKey & {
    readonly streamType: string;
    readonly streamId: string;
    /** ISO time of the event that took the key. */
    readonly claimedAt: string;
  })[];
  deadlines(): readonly DeadlineRowInput[];
}

export interface RebuildSummary {
  readonly events: number;
  readonly claims: number;
  readonly deadlines: number;
}

/**
 * Replaces the `claims` and `deadlines` tables with what `derivation` makes of the whole log
 * (`npm run claims:rebuild`, docs/room-calendar.md "Rebuilding"). Run it with the command
 * services stopped: an append committed meanwhile would be missing.
 */
export async function rebuildProcessTables(
  knex: Knex,
  derivation: ProcessTablesDerivation,
): Promise<RebuildSummary> {
  let after = '0';
  let events = 0;
  for (;;) {
    const page = await readAll(knex, { afterPosition: after, limit: 5000 });
    if (page.length === 0) break;
    for (const event of page) derivation.apply(event);
    events += page.length;
    after = page[page.length - 1]!.position;
  }
  const claims = derivation.claims();
  const deadlines = derivation.deadlines();
  await replaceClaims(
    knex,
    claims.map((c) => ({ ...c, claimedAt: toSqlDatetime(c.claimedAt) })),
  );
  await replaceDeadlines(knex, deadlines);
  return { events, claims: claims.length, deadlines: deadlines.length };
}
