import type { EventEnvelope } from '@cqrs/core';
import type { Client } from '@elastic/elasticsearch';
import type { Logger } from 'pino';
import type { ProjectionEngine } from './engine';
import { resolveAlias } from './indices';
import { newGeneration, type IndexNames, type ReadModel } from './read-model';

/** Reads the event store in global order (packages/event-store `readAll`, `headPosition`). */
export interface EventSource {
  readAll(opts: {
    afterPosition: string;
    limit: number;
    streamTypes?: readonly string[];
  }): Promise<EventEnvelope[]>;
  headPosition(): Promise<string>;
}

export type RebuildState = 'replaying' | 'catching-up' | 'swapping' | 'done' | 'failed';

export interface RebuildProgress {
  readonly name: string;
  readonly state: RebuildState;
  readonly index: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** Events replayed so far. */
  readonly processed: number;
  /** Position reached / the event store's head when the rebuild started. */
  readonly position: string;
  readonly headPosition: string;
  /** 0..1, by position. */
  readonly fraction: number;
  readonly eventsPerSecond: number;
  readonly etaSeconds: number | null;
  /** Events the read model refused (logged; the event store still has them). */
  readonly refused: number;
  readonly error: string | null;
}

export interface RebuilderOptions {
  readonly client: Client;
  readonly logger: Logger;
  readonly engine: ProjectionEngine;
  readonly names: IndexNames;
  readonly source: EventSource;
  /**
   * Holds the live projector while the final catch-up and the alias swap run, when it runs
   * in this process; returns the function that lets it go on.
   */
  readonly pauseLive?: () => Promise<() => void>;
  readonly pageSize?: number;
  /** How long the old index stays after the swap, for searches already running on it. */
  readonly dropOldAfterMs?: number;
}

/**
 * Rebuilds a read model from the event store into a new index, with no downtime:
 *
 * 1. create `<prefix>-<model>-g<now>` (the template gives it the mapping);
 * 2. replay the event store page by page (the live projector keeps writing the old index
 *    through the alias meanwhile, so reads keep working);
 * 3. pause the live projector after its current batch, replay what was committed since,
 *    and swap the alias to the new index in one atomic `_aliases` call;
 * 4. let the live projector go on (it now writes the new index) and drop the old index.
 *
 * Nothing is lost: an event either was committed before the final catch-up (and replayed)
 * or is applied by the live projector after the swap. Applying both is harmless: the
 * projections are idempotent. Without a local projector (API-only instance) the final
 * catch-up runs right after the swap instead, which is equally complete, but tokens may
 * be answered from the new index a moment before it holds their events.
 */
export class Rebuilder {
  private readonly running = new Map<string, RebuildProgress>();
  private readonly log: Logger;

  constructor(private readonly opts: RebuilderOptions) {
    this.log = opts.logger.child({ component: 'rebuild' });
  }

  /** The progress of the last rebuild of `name` in this process, if any. */
  progress(name: string): RebuildProgress | undefined {
    return this.running.get(name);
  }

  /** Starts a rebuild (or returns the one running) and resolves its first progress at once. */
  start(model: ReadModel): { progress: RebuildProgress; done: Promise<RebuildProgress> } {
    const name = model.projection.name;
    const current = this.running.get(name);
    if (current && current.state !== 'done' && current.state !== 'failed') {
      return { progress: current, done: this.waiting.get(name)! };
    }
    const progress: RebuildProgress = {
      name,
      state: 'replaying',
      index: this.opts.names.index(name, newGeneration()),
      startedAt: new Date().toISOString(),
      finishedAt: null,
      processed: 0,
      position: '0',
      headPosition: '0',
      fraction: 0,
      eventsPerSecond: 0,
      etaSeconds: null,
      refused: 0,
      error: null,
    };
    this.running.set(name, progress);
    const done = this.run(model, progress.index).catch((err: unknown) => {
      this.log.error({ err, name }, 'rebuild failed');
      this.update(name, { state: 'failed', error: (err as Error).message, finishedAt: now() });
      return this.running.get(name)!;
    });
    this.waiting.set(name, done);
    return { progress, done };
  }

  private readonly waiting = new Map<string, Promise<RebuildProgress>>();

  private async run(model: ReadModel, index: string): Promise<RebuildProgress> {
    const { client, names, source } = this.opts;
    const name = model.projection.name;
    const alias = names.alias(name);
    await client.indices.create({ index });
    const head = await source.headPosition();
    this.update(name, { headPosition: head });
    this.log.info({ name, index, head }, 'rebuild started');

    let after = await this.replay(model, index, '0');
    this.update(name, { state: 'catching-up' });
    const resume = this.opts.pauseLive ? await this.opts.pauseLive() : undefined;
    try {
      if (resume) after = await this.replay(model, index, after);
      this.update(name, { state: 'swapping' });
      const old = await resolveAlias(client, alias);
      await client.indices.updateAliases({
        actions: [
          ...(old ? [{ remove: { index: old, alias } }] : []),
          { add: { index, alias, is_write_index: true } },
        ],
      });
    } finally {
      resume?.();
    }
    if (!resume) after = await this.replay(model, index, after);
    const old = await this.previousIndices(alias, index, name);
    if (old.length > 0) {
      setTimeout(() => {
        void client.indices
          .delete({ index: old.join(','), ignore_unavailable: true })
          .catch((err: unknown) => this.log.warn({ err, old }, 'could not drop the old index'));
      }, this.opts.dropOldAfterMs ?? 2000).unref();
    }
    this.update(name, { state: 'done', finishedAt: now(), fraction: 1, etaSeconds: 0 });
    this.log.info({ name, index, position: after }, 'rebuild done; alias swapped');
    return this.running.get(name)!;
  }

  /** Replays every event after `after` into `index`; returns the last position replayed. */
  private async replay(model: ReadModel, index: string, after: string): Promise<string> {
    const name = model.projection.name;
    const pageSize = this.opts.pageSize ?? 1000;
    const started = Date.now();
    const startProcessed = this.running.get(name)!.processed;
    const streamTypes = model.projection.streamTypes;
    for (;;) {
      const page = await this.opts.source.readAll({
        afterPosition: after,
        limit: pageSize,
        ...(streamTypes.length > 0 ? { streamTypes } : {}),
      });
      if (page.length === 0) return after;
      const result = await this.opts.engine.project(page, [{ model, index }]);
      for (const [at, reason] of result.rejected) {
        this.log.warn({ name, eventId: page[at]?.eventId, reason }, 'rebuild: event refused');
      }
      after = page.at(-1)!.position;
      const p = this.running.get(name)!;
      const processed = p.processed + page.length;
      const seconds = Math.max(0.001, (Date.now() - started) / 1000);
      const rate = (processed - startProcessed) / seconds;
      const head = BigInt(p.headPosition);
      const fraction =
        head > 0n ? Math.min(1, Number((BigInt(after) * 10_000n) / head) / 10_000) : 1;
      const remaining = head > BigInt(after) ? Number(head - BigInt(after)) : 0;
      this.update(name, {
        processed,
        position: after,
        fraction,
        eventsPerSecond: Math.round(rate),
        // Positions stand in for events still to come (close enough for an estimate).
        etaSeconds: rate > 0 ? Math.ceil(remaining / rate) : null,
        refused: p.refused + result.rejected.size,
      });
      if (page.length < pageSize) return after;
    }
  }

  private async previousIndices(alias: string, current: string, name: string): Promise<string[]> {
    const res = await this.opts.client.indices.get(
      { index: this.opts.names.pattern(name), ignore_unavailable: true },
      { ignore: [404] },
    );
    return Object.keys(res ?? {}).filter(
      (i) => i !== current && !Object.keys(res[i]?.aliases ?? {}).includes(alias),
    );
  }

  private update(name: string, patch: Partial<RebuildProgress>): void {
    const p = this.running.get(name);
    if (p) this.running.set(name, { ...p, ...patch });
  }
}

const now = () => new Date().toISOString();
