import { DependencyUnavailableError, type EventEnvelope } from '@cqrs/core';
import type { Client, estypes } from '@elastic/elasticsearch';
import type { Logger } from 'pino';
import { classifyItem, describeItemError } from './bulk-errors';
import {
  evolveBatch,
  fieldValues,
  planBatch,
  type BatchPlan,
  type DocumentState,
} from './coalesce';
import type { ReadModel } from './read-model';

/** Where one read model of a batch is read from and written to: its alias, or a new index. */
export interface ProjectionTarget {
  readonly model: ReadModel;
  readonly index: string;
  /**
   * `index` is a concrete index, not an alias (a rebuild's new index): the documents this
   * engine wrote there are not read back while it remembers them. Sound because `if_seq_no`
   * on one concrete index catches any other writer (the write conflicts and is re-read); an
   * alias may move to an index where the same seq_no means another state.
   */
  readonly trustOwnWrites?: boolean;
  /**
   * `index` was created empty for this engine, its only writer until it is swapped in (a
   * rebuild's new generation; implies `trustOwnWrites`): a document the engine never wrote
   * there does not exist. Such documents are not read, and the join's search is skipped while
   * the engine still remembers every document it wrote there, so a batch asks Elasticsearch
   * nothing before its write. Costs one id per document written, for the engine's lifetime.
   */
  readonly fresh?: boolean;
}

export interface BatchResult {
  /** Batch positions of events that can never be projected, with the reason. */
  readonly rejected: ReadonlyMap<number, string>;
  /** Documents written (created or changed). */
  readonly written: number;
}

export interface ProjectionEngineOptions {
  readonly client: Client;
  readonly logger: Logger;
  /** Attempts per read model and batch before the batch fails as a dependency problem. */
  readonly maxAttempts?: number;
  /**
   * Documents this engine wrote to one index and has not refreshed since, remembered for the
   * join's discovery (default 20 000); beyond it, the index is refreshed before the next batch.
   */
  readonly maxUnrefreshed?: number;
}

/**
 * What this engine knows of the writes to one concrete (single-shard) index, by sequence
 * number: every write at or below `clean` that is not its own was visible to real-time gets
 * and to searches before the engine's current batch read anything; `own` are the sequence
 * numbers of its own writes above `clean`.
 */
interface WriteLedger {
  clean: number | undefined;
  readonly own: Set<number>;
}

/** Own sequence numbers remembered per index at most; beyond, the ledger starts over. */
const MAX_OWN_SEQ_NOS = 100_000;

/** A document this engine wrote that a search may not see yet. */
interface Written {
  readonly doc: object;
  readonly seqNo: number | undefined;
  readonly primaryTerm: number | undefined;
  /** Write counter at the time the bulk that wrote it returned. */
  readonly gen: number;
}

const MGET_CHUNK = 1000;
/**
 * Documents per bulk request at least; a larger write is split into BULK_PARALLEL requests.
 * Every request costs a translog fsync per shard: a live batch (the read models are written
 * side by side, so the write threads are busy anyway) goes as one request per read model.
 */
const BULK_CHUNK_MIN = 1000;
/** Documents per bulk request at most (a rebuild's chunk goes as a stream of such requests). */
const BULK_CHUNK_MAX = 5000;
const BULK_PARALLEL = 2;
/**
 * What the engine reads of a bulk item (see `classifyItem`): Elasticsearch serialises, and the
 * client parses, a third of each item's answer.
 */
const BULK_ITEM_FIELDS = [
  'items.*.status',
  'items.*.error',
  'items.*._index',
  'items.*._seq_no',
  'items.*._primary_term',
];
const DISCOVER_PAGE = 1000;

/**
 * Turns a batch of events into Elasticsearch writes for each read model: read the
 * documents the events affect (real-time get, so the last batch's writes are seen), evolve
 * them with the pure projection, and write them back guarded by `if_seq_no` /
 * `if_primary_term`. A document someone else changed meanwhile is re-read and evolved
 * again (projections are idempotent, so re-applying is harmless); overload is retried
 * with backoff; a document Elasticsearch refuses rejects the events that produced it.
 *
 * Writing does not refresh: "applied" (a real-time get sees it) and "searchable" (a search
 * sees it) are two watermarks, and `refresh` moves the second one when a reader needs it.
 * The join's discovery ("every reservation of customer X") is a search, so the engine
 * remembers the documents it wrote since it last refreshed an index and adds the matching
 * ones to what the search finds (see docs/query-side.md).
 *
 * Joins across instances (write-then-verify): another projector may write the other side of
 * a join at the same time, unrefreshed. So on a shared target (an alias), after its write,
 * the engine reads the other side again in a way that sees every completed write - a
 * real-time get of the documents the events looked up, a refresh before the search of
 * documents by field - and projects the batch again when that shows something it missed.
 * Of two instances racing on one join, at least one verifies after the other's write
 * completed (docs/scaling.md), so the join converges.
 */
export class ProjectionEngine {
  private readonly client: Client;
  private readonly log: Logger;
  private readonly maxAttempts: number;
  private readonly maxUnrefreshed: number;
  /** Per target index (alias or concrete name, as the targets say): id -> last write. */
  private readonly unrefreshed = new Map<string, Map<string, Written>>();
  /**
   * Per `fresh` target index: every id this engine wrote there, and whether a refresh made it
   * forget some of them (then the join's search is needed again: it finds those).
   */
  private readonly owned = new Map<string, { ids: Set<string>; forgotten: boolean }>();
  private writes = 0;
  /** By concrete index (see `onlyOwnWritesSince`). */
  private readonly ledgers = new Map<string, WriteLedger>();
  /** Attempts under way per target, and how many ever started (see `onlyOwnWritesSince`). */
  private readonly attempts = new Map<string, { active: number; started: number }>();
  /** Targets whose index had a clean point when last verified (see `ensureCleanPoint`). */
  private readonly cleanTargets = new Map<string, Promise<void>>();
  /** Per target index: clean points moved by a refresh so far (see `attempt`). */
  private readonly cleanMoves = new Map<string, number>();
  /** Per target index: what this engine wrote there while a batch was reading (`catchUp`). */
  private readonly watchers = new Map<string, Set<Map<string, object>>>();

  constructor(opts: ProjectionEngineOptions) {
    this.client = opts.client;
    this.log = opts.logger.child({ component: 'projection-engine' });
    this.maxAttempts = opts.maxAttempts ?? 6;
    this.maxUnrefreshed = opts.maxUnrefreshed ?? 20_000;
  }

  /**
   * Projects `events` (in delivery order) into every target. Resolves once Elasticsearch
   * accepted the writes (a real-time get sees them); with `refresh` the written indices are
   * also refreshed, so the batch is searchable. Throws DependencyUnavailableError when
   * Elasticsearch keeps failing.
   *
   * `after`: the previous batch, still being written (a pipeline): this batch reads what it
   * needs meanwhile and writes once `after` resolved true - having read again whatever this
   * engine wrote meanwhile that it had read or that its joins match (see `catchUp`). When
   * `after` resolves false (that batch was not written) this one is not written either.
   */
  async project(
    events: readonly EventEnvelope[],
    targets: readonly ProjectionTarget[],
    refresh = false,
    after?: Promise<boolean>,
  ): Promise<BatchResult> {
    const rejected = new Map<number, string>();
    // Bounds the memory of unrefreshed writes (one refresh now and then, not per batch).
    const full = targets
      .map((t) => t.index)
      .filter((index) => (this.unrefreshed.get(index)?.size ?? 0) >= this.maxUnrefreshed);
    if (full.length > 0) await this.refresh(full);
    // Read models are independent of each other (a join keeps its own reference documents),
    // so they are projected side by side.
    const written = await Promise.all(
      targets.map((target) => this.projectModel(events, target, rejected, after)),
    );
    const touched = targets.filter((_, i) => written[i]! > 0).map((t) => t.index);
    if (refresh && touched.length > 0) await this.refresh(touched);
    return { rejected, written: written.reduce((a, b) => a + b, 0) };
  }

  /**
   * Makes everything written to `indices` so far searchable (one `_refresh` request). Writes
   * that completed before the request are covered, whoever made them.
   */
  async refresh(indices: readonly string[]): Promise<void> {
    if (indices.length === 0) return;
    const upTo = this.writes;
    await this.call('refresh', () => this.client.indices.refresh({ index: [...indices] }));
    for (const index of indices) {
      const written = this.unrefreshed.get(index);
      if (!written) continue;
      // Insertion order is write order (an id written again is moved to the end).
      let forgot = false;
      for (const [id, w] of written) {
        if (w.gen > upTo) break;
        written.delete(id);
        forgot = true;
      }
      const owned = this.owned.get(index);
      if (owned && forgot) owned.forgotten = true;
      if (written.size === 0) this.unrefreshed.delete(index);
    }
  }

  private async projectModel(
    events: readonly EventEnvelope[],
    target: ProjectionTarget,
    rejected: Map<number, string>,
    after: Promise<boolean> | undefined,
  ): Promise<number> {
    let written = 0;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(events, target, rejected, after, attempt === 1);
      written += outcome.written;
      if (outcome.conflicts === 0 && outcome.retryable === 0) return written;
      if (attempt >= this.maxAttempts) {
        throw new DependencyUnavailableError(
          'elasticsearch',
          `${target.model.projection.name}: ${outcome.retryable} retryable failures and ${outcome.conflicts} conflicts after ${attempt} attempts`,
        );
      }
      this.log.debug({ model: target.model.projection.name, attempt, ...outcome }, 'retrying');
      // Conflicts are resolved by re-reading at once; overload needs a pause.
      if (outcome.retryable > 0) await sleep(Math.min(2000, 50 * 2 ** attempt));
    }
  }

  /**
   * One attempt at a batch on one target: read what it needs (while `after`, the batch before,
   * may still be writing), then - alone on the target - catch up with what this engine wrote
   * meanwhile, evolve, write and verify.
   */
  private async attempt(
    events: readonly EventEnvelope[],
    target: ProjectionTarget,
    rejected: Map<number, string>,
    after: Promise<boolean> | undefined,
    first: boolean,
  ): Promise<{ written: number; conflicts: number; retryable: number }> {
    const projection = target.model.projection;
    const plan = planBatch(projection, events, rejected);
    if (plan.events.length === 0) return { written: 0, conflicts: 0, retryable: 0 };
    const verifies = !(target.trustOwnWrites || target.fresh) && !projection.appendOnly;
    if (verifies && (plan.lookedUp.size > 0 || plan.matches.length > 0)) {
      await this.ensureCleanPoint(target.index);
    }
    // What this engine writes to the target from now on, and whether a refresh moves a
    // clean point meanwhile (see `onlyOwnWritesSince`).
    const meanwhile = this.watch(target.index);
    const cleanMoves = this.cleanMoves.get(target.index);
    try {
      const read = await this.read(target, plan, first);
      if (after && !(await after)) {
        throw new DependencyUnavailableError('projector', 'the batch before was not written');
      }
      return await this.alongside(target.index, async (alone) => {
        await this.catchUp(target, plan, read, meanwhile);
        return this.write(events, target, plan, read, rejected, () => {
          return alone() && cleanMoves === this.cleanMoves.get(target.index);
        });
      });
    } finally {
      this.unwatch(target.index, meanwhile);
    }
  }

  /**
   * The documents the plan needs, as Elasticsearch (or the engine's memory) has them now. On
   * a first attempt the documents the plan presumes new are not read: they are created, and
   * one that exists after all fails its `create` - a conflict, so the next attempt reads
   * everything (and a document evolved with it meanwhile is merged again, as after any
   * conflict).
   */
  private async read(
    { model, index, trustOwnWrites: trust, fresh = false }: ProjectionTarget,
    plan: BatchPlan,
    first: boolean,
  ): Promise<{ ids: Set<string>; state: Map<string, DocumentState> }> {
    const projection = model.projection;
    const { matches } = plan;
    const ids = new Set(plan.ids);
    const trustOwnWrites = trust || fresh;
    const owned = fresh ? this.ownedOf(index) : undefined;
    const state = new Map<string, DocumentState>();
    if (!projection.appendOnly) {
      // Presumed new, unless a search finds it (below) or the engine wrote it.
      const remembered = this.unrefreshed.get(index);
      const unread = new Set(
        first ? [...plan.presumedNew].filter((id) => !remembered?.has(id)) : [],
      );
      for (const id of this.discoverUnrefreshed(index, matches)) {
        ids.add(id);
        unread.delete(id);
      }
      if (trustOwnWrites) {
        const written = this.unrefreshed.get(index);
        for (const id of ids) {
          const w = written?.get(id);
          if (!w || w.seqNo === undefined) continue;
          state.set(id, {
            doc: w.doc,
            seqNo: w.seqNo,
            ...(w.primaryTerm !== undefined ? { primaryTerm: w.primaryTerm } : {}),
            dirty: false,
            sources: new Set(),
          });
        }
      }
      // The documents named by id are read while the join's search runs; what the search
      // adds (usually already among them) is read after it.
      // In a fresh index, what the engine never wrote is absent, and while it remembers all
      // it wrote the search can find nothing the memory did not.
      const unknown = (id: string) => !state.has(id) && (!owned || owned.ids.has(id));
      const [found] = await Promise.all([
        owned && !owned.forgotten ? Promise.resolve([]) : this.discover(index, matches),
        this.load(
          index,
          [...ids].filter((id) => unknown(id) && !unread.has(id)),
          state,
        ),
      ]);
      await this.load(index, found.filter(unknown), state);
    }
    return { ids, state };
  }

  /**
   * Before a write: reads again what this engine wrote to the target since `read` began (a
   * pipelined batch before this one) - the documents read before that write, and those its
   * joins match now. Other writers are caught by `if_seq_no` and the verification, as ever.
   */
  private async catchUp(
    { model, index }: ProjectionTarget,
    { matches }: BatchPlan,
    { ids, state }: { ids: Set<string>; state: Map<string, DocumentState> },
    meanwhile: ReadonlyMap<string, object>,
  ): Promise<void> {
    if (model.projection.appendOnly || meanwhile.size === 0) return;
    const again: string[] = [];
    const matching = matcher(matches);
    for (const [id, doc] of meanwhile) {
      if (ids.has(id) || state.has(id) || matching(doc)) {
        ids.add(id);
        again.push(id);
      }
    }
    if (again.length > 0) await this.load(index, again, state);
  }

  private async write(
    events: readonly EventEnvelope[],
    { model, index, trustOwnWrites: trust, fresh = false }: ProjectionTarget,
    plan: BatchPlan,
    { state }: { ids: Set<string>; state: Map<string, DocumentState> },
    rejected: Map<number, string>,
    alone: () => boolean,
  ): Promise<{ written: number; conflicts: number; retryable: number }> {
    const projection = model.projection;
    const { lookedUp, matches } = plan;
    const trustOwnWrites = trust || fresh;
    const owned = fresh ? this.ownedOf(index) : undefined;
    const dirty = evolveBatch(projection, events, plan, state, rejected);
    if (dirty.length === 0) return { written: 0, conflicts: 0, retryable: 0 };
    // A bulk request is indexed by one write thread per shard: a large write (a rebuild's
    // chunk) goes as a few requests side by side, so a single-shard index uses more than one.
    const perChunk = Math.max(BULK_CHUNK_MIN, Math.ceil(dirty.length / BULK_PARALLEL));
    const size = Math.min(BULK_CHUNK_MAX, perChunk);
    const bodies: Buffer[] = [];
    for (let i = 0; i < dirty.length; i += size) bodies.push(bulkBody(index, dirty, i, i + size));
    const responses = await mapLimit(bodies, BULK_PARALLEL, (body) =>
      this.call('bulk', () =>
        // The client sends a Buffer body as it is (its transport serialises only objects).
        this.client.bulk({
          operations: body as unknown as estypes.BulkOperationContainer[],
          filter_path: BULK_ITEM_FIELDS,
        }),
      ),
    );
    let written = 0;
    let conflicts = 0;
    let retryable = 0;
    const remembered = projection.appendOnly ? undefined : this.unrefreshedOf(index);
    const gen = ++this.writes;
    responses
      .flatMap((res) => res.items)
      .forEach((item, i) => {
        const result = Object.values(item)[0] as estypes.BulkResponseItem;
        const outcome = classifyItem(result);
        if (outcome === 'ok') {
          written++;
          if (!trustOwnWrites) this.ownWrite(result._index, result._seq_no);
          if (owned && !projection.appendOnly) owned.ids.add(dirty[i]![0]);
          const e = dirty[i]![1];
          e.seqNo = result._seq_no;
          e.primaryTerm = result._primary_term;
          if (remembered) {
            const [id, e] = dirty[i]!;
            for (const w of this.watchers.get(index) ?? []) w.set(id, e.doc!);
            remembered.delete(id);
            remembered.set(id, {
              doc: e.doc!,
              seqNo: result._seq_no,
              primaryTerm: result._primary_term,
              gen,
            });
          }
        }
        // An append-only document that exists already is this event, delivered again.
        else if (outcome === 'conflict' && !projection.appendOnly) {
          conflicts++;
          owned?.ids.add(dirty[i]![0]);
          // Somebody else wrote it: the next attempt reads it instead of trusting our copy.
          const w = remembered?.get(dirty[i]![0]);
          if (w) remembered!.set(dirty[i]![0], { ...w, seqNo: undefined });
        } else if (outcome === 'retryable') retryable++;
        else if (outcome === 'permanent') {
          const reason = `${projection.name}/${dirty[i]![0]}: ${describeItemError(result)}`;
          for (const at of dirty[i]![1].sources) rejected.set(at, reason);
          this.log.warn({ reason }, 'document refused by Elasticsearch');
        }
      });
    if (written > 0 && !trustOwnWrites && conflicts === 0 && retryable === 0) {
      // Counted as a conflict: the next attempt re-reads and projects the batch again.
      if (await this.missedOtherSide(index, matches, lookedUp, state, alone)) conflicts++;
    }
    return { written, conflicts, retryable };
  }

  /**
   * Write-then-verify, after this attempt's write: did another writer change a document the
   * events looked up (real-time get), or write a document the field discovery should have
   * found (search after a refresh, which covers every write completed before it)?
   *
   * Both are needed only when somebody else wrote the index meanwhile: when its sequence
   * numbers since the last clean point are all this engine's own writes (one shard-level
   * stats request), nobody did, and the batch already saw everything (see
   * `onlyOwnWritesSince`).
   */
  private async missedOtherSide(
    index: string,
    matches: ReadonlyArray<{ field: string; value: string }>,
    lookedUp: ReadonlySet<string>,
    state: ReadonlyMap<string, DocumentState>,
    alone: () => boolean,
  ): Promise<boolean> {
    if (lookedUp.size === 0 && matches.length === 0) return false;
    const shard = await this.primaryShard(index);
    if (shard && alone() && this.onlyOwnWritesSince(shard)) return false;
    // No clean point (yet, or any more): the next batch sets one before it reads.
    if (shard && this.ledgers.get(shard.index)?.clean === undefined) {
      this.cleanTargets.delete(index);
    }
    const [changed, found] = await Promise.all([
      lookedUp.size > 0 ? this.changedSince(index, [...lookedUp], state) : false,
      matches.length > 0
        ? this.refresh([index]).then(() => this.discover(index, matches))
        : Promise.resolve([]),
    ]);
    // Everything processed before the stats were read is covered by the refresh above (or
    // was read in real time): a clean point. Without field targets there was no refresh, so
    // only the real-time gets are covered, which is not enough for a later search.
    if (shard && matches.length > 0) {
      this.cleanUpTo(shard.index, shard.localCheckpoint);
      this.cleanMoves.set(index, (this.cleanMoves.get(index) ?? 0) + 1);
    }
    return changed || found.some((id) => !state.has(id));
  }

  /**
   * Gives the target's index a clean point before a batch reads, when it has none: one
   * refresh, which then costs little (the first batch on an index, or the first after its
   * ledger started over), where the verification after the write would refresh a whole
   * batch's documents; and from then on `onlyOwnWritesSince` can spare the verifications.
   */
  private ensureCleanPoint(index: string): Promise<void> {
    let ensured = this.cleanTargets.get(index);
    if (!ensured) {
      ensured = this.setCleanPoint(index);
      this.cleanTargets.set(index, ensured);
      // A failure is the batch's: the next one tries again.
      ensured.catch(() => this.cleanTargets.delete(index));
    }
    return ensured;
  }

  private async setCleanPoint(index: string): Promise<void> {
    const shard = await this.primaryShard(index);
    if (shard && this.ledgers.get(shard.index)?.clean === undefined) {
      // Every operation up to the checkpoint completed before the refresh: searchable after it.
      await this.refresh([index]);
      this.cleanUpTo(shard.index, shard.localCheckpoint);
      this.cleanMoves.set(index, (this.cleanMoves.get(index) ?? 0) + 1);
    }
  }

  private watch(index: string): Map<string, object> {
    const meanwhile = new Map<string, object>();
    let set = this.watchers.get(index);
    if (!set) this.watchers.set(index, (set = new Set()));
    set.add(meanwhile);
    return meanwhile;
  }

  private unwatch(index: string, meanwhile: Map<string, object>): void {
    const set = this.watchers.get(index);
    set?.delete(meanwhile);
    if (set?.size === 0) this.watchers.delete(index);
  }

  /**
   * Runs one attempt's write on `index`; `alone()` tells, when asked, whether no other
   * attempt's write on it was under way at any time since this one started.
   */
  private async alongside<T>(index: string, fn: (alone: () => boolean) => Promise<T>): Promise<T> {
    let a = this.attempts.get(index);
    if (!a) this.attempts.set(index, (a = { active: 0, started: 0 }));
    const wasIdle = a.active === 0;
    const mine = ++a.started;
    a.active++;
    try {
      return await fn(() => wasIdle && a.started === mine);
    } finally {
      a.active--;
    }
  }

  /**
   * True when every write to the shard since its clean point is this engine's own, and then
   * moves the clean point up to its newest write. Why that makes the verification needless:
   * another writer's write either got a sequence number at or below the shard's max when
   * the stats were read - then it is in that range, and is not ours - or after: then it
   * started after this batch's write had completed, and that writer's own verification sees
   * this batch. And a write at or below the clean point was visible before this batch read.
   * Own writes are found by the memory of unrefreshed writes (or a search after a refresh).
   * Only for a batch that ran alone on this engine: two attempts side by side would each
   * take the other's write for its own while neither saw it. A pipelined batch counts as
   * alone from its catch-up on: what this engine wrote while it read, it read again
   * (`catchUp`); and a clean point a refresh moved meanwhile (which may cover another
   * writer's write it did not see) makes it verify in full.
   */
  private onlyOwnWritesSince(shard: { index: string; maxSeqNo: number }): boolean {
    const ledger = this.ledgers.get(shard.index);
    if (ledger?.clean === undefined) return false;
    if (shard.maxSeqNo - ledger.clean > ledger.own.size) return false;
    for (let s = ledger.clean + 1; s <= shard.maxSeqNo; s++) if (!ledger.own.has(s)) return false;
    this.cleanUpTo(shard.index, shard.maxSeqNo);
    return true;
  }

  private cleanUpTo(index: string, seqNo: number): void {
    const ledger = this.ledgerOf(index);
    if (ledger.clean !== undefined && ledger.clean >= seqNo) return;
    ledger.clean = seqNo;
    for (const s of ledger.own) if (s <= seqNo) ledger.own.delete(s);
  }

  private ownWrite(index: string, seqNo: number | undefined): void {
    if (seqNo === undefined) return;
    const ledger = this.ledgerOf(index);
    if (ledger.own.size >= MAX_OWN_SEQ_NOS) {
      ledger.own.clear();
      ledger.clean = undefined; // the next verification is a full one, and sets it again
    }
    ledger.own.add(seqNo);
  }

  private ledgerOf(index: string): WriteLedger {
    let l = this.ledgers.get(index);
    if (!l) this.ledgers.set(index, (l = { clean: undefined, own: new Set() }));
    return l;
  }

  /**
   * The sequence numbers of the primary of `index` (an alias: of the index behind it), when
   * it is one index of one shard; undefined otherwise (then every verification is a full one).
   */
  private async primaryShard(
    index: string,
  ): Promise<{ index: string; maxSeqNo: number; localCheckpoint: number } | undefined> {
    const res = await this.call('stats', () =>
      this.client.indices.stats({
        index,
        level: 'shards',
        metric: 'docs',
        filter_path: ['indices.*.shards.*.seq_no', 'indices.*.shards.*.routing.primary'],
      }),
    );
    const indices = Object.entries(res.indices ?? {});
    if (indices.length !== 1) return undefined;
    const [name, stats] = indices[0]!;
    const shards = Object.values(stats.shards ?? {});
    if (shards.length !== 1) return undefined;
    const primary = (shards[0] as estypes.IndicesStatsShardStats[]).find((c) => c.routing?.primary);
    const seqNo = primary?.seq_no;
    if (!seqNo) return undefined;
    return { index: name, maxSeqNo: seqNo.max_seq_no, localCheckpoint: seqNo.local_checkpoint };
  }

  /** True when a document is not (or no longer) what `state` read or wrote. */
  private async changedSince(
    index: string,
    ids: readonly string[],
    state: ReadonlyMap<string, DocumentState>,
  ): Promise<boolean> {
    const res = await this.call('mget', () =>
      this.client.mget({ index, ids: [...ids], realtime: true, _source: false }),
    );
    return res.docs.some((d) => {
      const e = state.get(d._id);
      const found = 'found' in d && d.found;
      if (!found) return e?.seqNo !== undefined;
      return e?.seqNo !== d._seq_no || e?.primaryTerm !== d._primary_term;
    });
  }

  private ownedOf(index: string): { ids: Set<string>; forgotten: boolean } {
    let o = this.owned.get(index);
    if (!o) this.owned.set(index, (o = { ids: new Set(), forgotten: false }));
    return o;
  }

  private unrefreshedOf(index: string): Map<string, Written> {
    let m = this.unrefreshed.get(index);
    if (!m) this.unrefreshed.set(index, (m = new Map()));
    return m;
  }

  /** Ids of documents this engine wrote, not refreshed since, matching any field/value pair. */
  private discoverUnrefreshed(
    index: string,
    matches: ReadonlyArray<{ field: string; value: string }>,
  ): string[] {
    const written = this.unrefreshed.get(index);
    if (!written || matches.length === 0) return [];
    const matching = matcher(matches);
    const ids: string[] = [];
    for (const [id, w] of written) if (matching(w.doc)) ids.push(id);
    return ids;
  }

  /** Ids of the documents matching any of the field/value pairs (searchable ones). */
  private async discover(
    index: string,
    matches: ReadonlyArray<{ field: string; value: string }>,
  ): Promise<string[]> {
    if (matches.length === 0) return [];
    const query: estypes.QueryDslQueryContainer = {
      bool: {
        should: matches.map((m) => ({ term: { [m.field]: m.value } })),
        minimum_should_match: 1,
      },
    };
    const first = await this.call('search', () =>
      this.client.search({
        index,
        query,
        size: DISCOVER_PAGE,
        _source: false,
        track_total_hits: true,
      }),
    );
    const total = typeof first.hits.total === 'number' ? first.hits.total : first.hits.total?.value;
    if ((total ?? 0) <= DISCOVER_PAGE) return first.hits.hits.map((h) => h._id!);
    return this.discoverAll(index, query);
  }

  /** Pages through every match with a point in time, for customers with very many reservations. */
  private async discoverAll(
    index: string,
    query: estypes.QueryDslQueryContainer,
  ): Promise<string[]> {
    const pit = await this.call('pit', () =>
      this.client.openPointInTime({ index, keep_alive: '1m' }),
    );
    const ids: string[] = [];
    try {
      let after: estypes.SortResults | undefined;
      for (;;) {
        const page = await this.call('search', () =>
          this.client.search({
            pit: { id: pit.id, keep_alive: '1m' },
            query,
            size: DISCOVER_PAGE,
            _source: false,
            sort: [{ _shard_doc: 'asc' }],
            ...(after ? { search_after: after } : {}),
          }),
        );
        for (const h of page.hits.hits) ids.push(h._id!);
        if (page.hits.hits.length < DISCOVER_PAGE) return ids;
        after = page.hits.hits.at(-1)!.sort;
      }
    } finally {
      await this.client.closePointInTime({ id: pit.id }).catch(() => undefined);
    }
  }

  private async load(
    index: string,
    ids: readonly string[],
    state: Map<string, DocumentState>,
  ): Promise<void> {
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += MGET_CHUNK) chunks.push(ids.slice(i, i + MGET_CHUNK));
    const responses = await Promise.all(
      chunks.map((chunk) =>
        this.call('mget', () => this.client.mget<object>({ index, ids: chunk, realtime: true })),
      ),
    );
    for (const res of responses) {
      for (const d of res.docs) {
        if ('error' in d && d.error) {
          throw new DependencyUnavailableError('elasticsearch', `mget ${d._id}: ${d.error.reason}`);
        }
        const found = 'found' in d && d.found;
        state.set(d._id, {
          doc: found ? d._source : undefined,
          ...(found ? { seqNo: d._seq_no, primaryTerm: d._primary_term } : {}),
          dirty: false,
          sources: new Set(),
        });
      }
    }
  }

  /** Any failure of a whole request is a dependency problem: the caller retries the batch. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new DependencyUnavailableError(
        'elasticsearch',
        `${what} failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}

/**
 * The NDJSON body of a bulk request writing `dirty[from..to)` to `index`: `create` for a
 * document not stored yet, else `index` guarded by the sequence number it was read at. Built
 * here as one flat buffer: the client would serialise an array of action and document
 * objects into a concatenated string that it then measures and encodes again on the socket.
 */
function bulkBody(
  index: string,
  dirty: ReadonlyArray<readonly [string, DocumentState]>,
  from: number,
  to: number,
): Buffer {
  const target = `{"_index":${JSON.stringify(index)},"_id":`;
  const lines: string[] = [];
  for (let i = from; i < to && i < dirty.length; i++) {
    const [id, e] = dirty[i]!;
    const meta = `${target}${JSON.stringify(id)}`;
    lines.push(
      e.seqNo !== undefined
        ? `{"index":${meta},"if_seq_no":${e.seqNo},"if_primary_term":${e.primaryTerm}}}`
        : `{"create":${meta}}}`,
      JSON.stringify(e.doc),
    );
  }
  lines.push('');
  return Buffer.from(lines.join('\n'));
}

/** Whether a document matches any of the field/value pairs (as a `term` query would). */
function matcher(
  matches: ReadonlyArray<{ readonly field: string; readonly value: string }>,
): (doc: object) => boolean {
  const wanted = new Map<string, Set<unknown>>();
  for (const m of matches) {
    let values = wanted.get(m.field);
    if (!values) wanted.set(m.field, (values = new Set()));
    values.add(m.value);
  }
  return (doc) => {
    for (const [field, values] of wanted) {
      if (fieldValues(doc, field).some((v) => values.has(v))) return true;
    }
    return false;
  };
}

/** `fn` over `items`, at most `limit` at a time; results in the order of `items`. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
