import { randomBytes } from 'node:crypto';
import type { ReadModelProjection } from '@cqrs/core';
import type { estypes } from '@elastic/elasticsearch';
import type { QueryRoutes } from './query-api/context';

/**
 * A read model as the query side runs it: the projection, its explicit Elasticsearch mapping
 * and the query routes that search it. The query service projects, indexes and serves every
 * read model of its list the same way.
 */
export interface ReadModel<TDoc extends object = object> {
  readonly projection: ReadModelProjection<TDoc>;
  readonly mappings: estypes.MappingTypeMapping;
  readonly settings?: estypes.IndicesIndexSettings;
  /** Its HTTP routes (a Fastify plugin); none for a read model only other code reads. */
  readonly routes?: QueryRoutes;
}

/** Index, alias and template names of one environment (`INDEX_PREFIX`). */
export class IndexNames {
  constructor(readonly prefix: string) {}

  /** The alias every reader and the live projector use. */
  alias(model: string): string {
    return `${this.prefix}-${model}`;
  }

  /** A concrete index behind the alias; rebuilds create a new one. */
  index(model: string, generation: string): string {
    return `${this.prefix}-${model}-${generation}`;
  }

  template(model: string): string {
    return `${this.prefix}-${model}`;
  }

  pattern(model: string): string {
    return `${this.prefix}-${model}-*`;
  }
}

/**
 * A sortable, unique index generation: `g<epoch ms>-<random>`. The random part matters:
 * instances that start together create their first index in the same millisecond, and two
 * of them must never pick the same name (the loser would drop the winner's index).
 */
export function newGeneration(now = Date.now()): string {
  return `g${now}-${randomBytes(4).toString('hex')}`;
}
