import type { EventEnvelope } from './messages';

/**
 * The contract between the read-model projections of a domain (pure functions of events,
 * e.g. in packages/hotel) and the engine that stores their documents (packages/search).
 * The domain knows which documents an event changes and how; the engine knows how to load,
 * write, retry and refresh them. Neither knows the other.
 */

/**
 * A document an event affects: one by id (created when absent), or every existing document
 * whose keyword `field` equals `value` (e.g. all reservations of a renamed customer).
 */
export type DocumentTarget =
  { readonly id: string } | { readonly field: string; readonly value: string };

export interface ProjectionContext<TDoc> {
  /** The id of the document being evolved. */
  readonly id: string;
  /** The current state of another document of the same read model (see `lookups`). */
  lookup(id: string): TDoc | undefined;
}

export interface ReadModelProjection<TDoc extends object = object> {
  /** Name of the read model, e.g. `reservations`; also the index alias suffix. */
  readonly name: string;
  /** Stream types whose events this read model consumes (rebuilds read only these); empty = all. */
  readonly streamTypes: readonly string[];
  /**
   * When the documents of one stream type are keyed by stream id and carry that stream's
   * `version`, the read model "reflects" a stream at the version of its document.
   */
  readonly ownStreamType?: string;
  /** Documents are written once and never change (an event log): no read-modify-write. */
  readonly appendOnly?: boolean;
  /** The documents the event affects, evolved in this order; empty when it affects none. */
  targets(event: EventEnvelope): readonly DocumentTarget[];
  /** Ids of documents `evolve` reads through `ctx.lookup` for this event. */
  lookups?(event: EventEnvelope): readonly string[];
  /**
   * Pure: the document after the event, or `undefined` when the event changes nothing
   * (a duplicate or a stale delivery). Must converge whatever order events arrive in.
   */
  evolve(
    doc: TDoc | undefined,
    event: EventEnvelope,
    ctx: ProjectionContext<TDoc>,
  ): TDoc | undefined;
}
