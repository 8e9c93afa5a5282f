import { createRequire } from 'node:module';
import type { Knex } from 'knex';

/**
 * The part of evtstore 12 the peer benchmark uses, typed by hand. evtstore publishes its
 * TypeScript sources next to the declarations, so a static import makes `tsc` type-check
 * its sources under this repository's strict settings (they fail noUncheckedIndexedAccess);
 * loading it with require keeps the compiler out of node_modules.
 */
interface Evt {
  readonly type: string;
}
interface StoreEvent<E> {
  readonly event: E;
  readonly version: number;
}
export interface EvtstoreProvider<E extends Evt> {
  createEvents(stream: string, aggregateId: string, version: number, events: E[]): StoreEvent<E>[];
  append(
    stream: string,
    aggregateId: string,
    version: number,
    events: StoreEvent<E>[],
  ): Promise<unknown>;
}
type Agg<A> = A & { readonly aggregateId: string; readonly version: number };
type CmdOf<C extends Evt, K extends C['type']> = Omit<Extract<C, { type: K }>, 'type'>;

export interface EvtstoreApi {
  createProvider<E extends Evt>(opts: {
    events: () => Knex.QueryBuilder;
    bookmarks: () => Knex.QueryBuilder;
  }): EvtstoreProvider<E>;
  migrate(opts: { client: Knex; events: string; bookmarks: string }): Promise<void>;
  createAggregate<E extends Evt, A, S extends string>(opts: {
    stream: S;
    create: () => A;
    fold: (ev: E, prev: Agg<A>) => Partial<A>;
  }): unknown;
  createDomain<T extends Record<string, unknown>>(
    opts: { provider: unknown; useCache?: boolean },
    aggregates: T,
  ): { domain: { [K in keyof T]: unknown } };
  createCommands<E extends Evt, A, C extends Evt>(
    provided: unknown,
    handlers: { [K in C['type']]: (cmd: CmdOf<C, K>, agg: Agg<A>) => Promise<E | E[] | void> },
  ): { [K in C['type']]: (id: string, body: CmdOf<C, K>) => Promise<Agg<A>> };
  CommandError: new (message: string) => Error;
}

export function loadEvtstore(): EvtstoreApi {
  const load = createRequire(__filename);
  return {
    ...(load('evtstore') as Omit<EvtstoreApi, 'createProvider' | 'migrate'>),
    ...(load('evtstore/provider/knex') as Pick<EvtstoreApi, 'createProvider' | 'migrate'>),
  };
}
