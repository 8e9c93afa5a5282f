import type { HttpServer } from '@cqrs/http';
import type { Client } from '@elastic/elasticsearch';
import type { ConsistencyTracker } from '../consistency';
import type { IndexNames } from '../read-model';

/** What every read model's query routes are given by the query service. */
export interface QueryContext {
  readonly client: Client;
  readonly names: IndexNames;
  readonly tracker: ConsistencyTracker;
  /** Stream types a consistency token may name (those the read models reflect). */
  readonly streamTypes: readonly string[];
}

/** A read model's HTTP face: a Fastify plugin of its query routes. */
export type QueryRoutes = (ctx: QueryContext) => (app: HttpServer) => Promise<void>;
