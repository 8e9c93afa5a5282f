import { v7 as uuidv7 } from 'uuid';

/** Generates ids; injected so that pure code and tests stay deterministic. */
export type IdGenerator = () => string;

/** Time-ordered UUIDv7: new event ids sort by creation time, which keeps B-tree inserts local. */
export const uuidV7: IdGenerator = () => uuidv7();

/** A clock, injected for the same reason. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Aggregate ids chosen by clients: 1-64 chars of [A-Za-z0-9_-]. */
export const AGGREGATE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function isValidAggregateId(id: string): boolean {
  return AGGREGATE_ID_PATTERN.test(id);
}
