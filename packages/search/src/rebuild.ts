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
  /** Events per page read from the event store (default 5000). */
  readonly pageSize?: number;
  /**
   * Events evolved in memory before their documents are written (default 20 000, whole
   * pages): a document the chunk changes several times is written once.
   */
  readonly chunkEvents?: number;
  /** How long the old index stays after the swap, for searches already running on it. */
  readonly dropOldAfterMs?: number;
}

/**
 * Rebuilds read models from the event store into new indices, with no downtime:
 *
 * 1. create `<prefix>-<model>-g<now>` (the template gives it the mapping), with refreshes
 *    off and no replicas while it fills (nobody reads it yet);
 * 2. replay the event store page by page - one pass for every model rebuilt together, the
 *    next page read while the current one is written - while the live projector keeps
 *    writing the old indices through the aliases, so reads keep working;
 * 3. restore the index settings, pause the live projector after its current batch, replay
 *    what was committed since, refresh once, and swap every alias to its new index in one
 *    atomic `_aliases` call;
 * 4. let the live projector go on (it now writes the new indices) and drop the old ones.
 *
 * Nothing is lost: an event either was committed before the final catch-up (and replayed)
 * or is applied by the live projector after the swap. Applying both is harmless: the
 * projections are idempotent. Without a local projector (API-only instance) the final
 * catch-up runs right after the swap instead, which is equally complete, but tokens may
 * be answered from the new index a moment before it holds their events.
 */
export class Rebuilder {
  private readonly running = new Map<string, RebuildProgress>();
  private readonly waiting = new Map<string, Promise<RebuildProgress>>();
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
    const { progress, done } = this.startMany([model]);
    return { progress: progress[0]!, done: done.then((all) => all[0]!) };
  }

  /**
   * Rebuilds several read models in one pass over the event store and swaps their aliases
   * together; a model already being rebuilt is joined, not started again.
   */
  startMany(models: readonly ReadModel[]): {
    progress: RebuildProgress[];
    done: Promise<RebuildProgress[]>;
  } {
    const fresh: Array<{ model: ReadModel; index: string }> = [];
    for (const model of models) {
      const name = model.projection.name;
      const current = this.running.get(name);
      if (current && current.state !== 'done' && current.state !== 'failed') continue;
      const index = this.opts.names.index(name, newGeneration());
      this.running.set(name, initialProgress(name, index));
      fresh.push({ model, index });
    }
    if (fresh.length > 0) {
      const group = this.run(fresh).catch((err: unknown) => {
        this.log.error({ err, names: fresh.map((f) => f.model.projection.name) }, 'rebuild failed');
        for (const { model } of fresh) {
          this.update(model.projection.name, {
            state: 'failed',
            error: (err as Error).message,
            finishedAt: now(),
          });
        }
      });
      for (const { model } of fresh) {
        const name = model.projection.name;
        this.waiting.set(
          name,
          group.then(() => this.running.get(name)!),
        );
      }
    }
    const names = models.map((m) => m.projection.name);
    return {
      progress: names.map((n) => this.running.get(n)!),
      done: Promise.all(names.map((n) => this.waiting.get(n)!)),
    };
  }

  private async run(group: ReadonlyArray<{ model: ReadModel; index: string }>): Promise<void> {
    const { client, names, source, engine } = this.opts;
    const indices = group.map((g) => g.index);
    const head = await source.headPosition();
    for (const { model } of group) this.update(model.projection.name, { headPosition: head });
    this.log.info({ indices, head }, 'rebuild started');

    // The first chunk is read while the indices are created (each a cluster state update).
    const created = this.createForFilling(indices);
    void created.catch(() => undefined); // awaited by replay, and below
    // Until the swap nobody else writes the new indices: `fresh` (nothing is read back).
    let after = await this.replay(group, '0', true, created);
    // The template's settings come back while the final catch-up and the refresh run.
    const restored = created.then((restore) => restore());
    void restored.catch(() => undefined); // awaited before the swap
    for (const { model } of group) this.update(model.projection.name, { state: 'catching-up' });
    const resume = this.opts.pauseLive ? await this.opts.pauseLive() : undefined;
    try {
      if (resume) after = await this.replay(group, after, true);
      // Searchable before any reader sees it through the alias.
      await Promise.all([engine.refresh(indices), restored]);
      for (const { model } of group) this.update(model.projection.name, { state: 'swapping' });
      const current = await Promise.all(
        group.map(({ model }) => resolveAlias(client, names.alias(model.projection.name))),
      );
      const actions = group.flatMap(({ model, index }, i) => {
        const alias = names.alias(model.projection.name);
        const old = current[i];
        return [
          ...(old ? [{ remove: { index: old, alias } }] : []),
          { add: { index, alias, is_write_index: true } },
        ];
      });
      await client.indices.updateAliases({ actions });
    } finally {
      resume?.();
    }
    if (!resume) {
      // Behind the alias now: the live projectors write them too.
      after = await this.replay(group, after, false);
      await engine.refresh(indices);
    }
    const previous = await Promise.all(
      group.map(({ model, index }) =>
        this.previousIndices(names.alias(model.projection.name), index, model.projection.name),
      ),
    );
    group.forEach(({ model }, i) => {
      const name = model.projection.name;
      const old = previous[i]!;
      if (old.length > 0) {
        setTimeout(() => {
          void client.indices
            .delete({ index: old.join(','), ignore_unavailable: true })
            .catch((err: unknown) => this.log.warn({ err, old }, 'could not drop the old index'));
        }, this.opts.dropOldAfterMs ?? 2000).unref();
      }
      this.update(name, { state: 'done', finishedAt: now(), fraction: 1, etaSeconds: 0 });
    });
    this.log.info({ indices, position: after }, 'rebuild done; aliases swapped');
  }

  /**
   * Creates the indices (mapping and settings from the template) with refreshes and replicas
   * off while they fill; returns the function that puts the template's values back, in one
   * settings update.
   */
  private async createForFilling(indices: readonly string[]): Promise<() => Promise<void>> {
    const { client } = this.opts;
    const restore = new Map<string, string[]>();
    await Promise.all(
      indices.map(async (index) => {
        const simulated = await client.indices.simulateIndexTemplate({ name: index });
        const fromTemplate = simulated.template.settings.index ?? {};
        const settings = {
          refresh_interval: fromTemplate.refresh_interval ?? null,
          number_of_replicas: fromTemplate.number_of_replicas ?? null,
        };
        await client.indices.create({
          index,
          settings: { refresh_interval: '-1', number_of_replicas: 0 },
        });
        const key = JSON.stringify(settings);
        restore.set(key, [...(restore.get(key) ?? []), index]);
      }),
    );
    return async () => {
      for (const [settings, group] of restore) {
        await client.indices.putSettings({
          index: group.join(','),
          settings: { index: JSON.parse(settings) as Record<string, unknown> },
        });
      }
    };
  }

  /**
   * Replays every event after `after` into the group's indices (each model sees only its
   * stream types) a chunk at a time, the next chunk read while one is written; returns the
   * last position replayed. `fresh`: the rebuild is still the indices' only writer (see
   * ProjectionTarget). Nothing is written before `ready`.
   */
  private async replay(
    group: ReadonlyArray<{ model: ReadModel; index: string }>,
    after: string,
    fresh: boolean,
    ready?: Promise<unknown>,
  ): Promise<string> {
    const pageSize = this.opts.pageSize ?? 5000;
    const chunkEvents = Math.max(pageSize, this.opts.chunkEvents ?? 20_000);
    const started = Date.now();
    const first = group[0]!.model.projection.name;
    const startProcessed = this.running.get(first)!.processed;
    // Empty stream types mean every event: then the pass cannot be narrowed.
    const wanted = group.map((g) => g.model.projection.streamTypes);
    const streamTypes = wanted.some((t) => t.length === 0) ? [] : [...new Set(wanted.flat())];
    /** Whole pages up to `chunkEvents`; `end` when the last page was not full. */
    const readChunk = async (from: string) => {
      const events: EventEnvelope[] = [];
      for (;;) {
        const page = await this.opts.source.readAll({
          afterPosition: from,
          limit: pageSize,
          ...(streamTypes.length > 0 ? { streamTypes } : {}),
        });
        for (const e of page) events.push(e);
        if (page.length < pageSize) return { events, end: true };
        from = page.at(-1)!.position;
        if (events.length >= chunkEvents) return { events, end: false };
      }
    };
    let next = readChunk(after);
    for (;;) {
      const { events: page, end } = await next;
      if (page.length === 0) return after;
      const last = page.at(-1)!.position;
      // The event store reads the next chunk while Elasticsearch writes this one.
      next = end ? Promise.resolve({ events: [], end }) : readChunk(last);
      void next.catch(() => undefined); // awaited on the next turn; a failure here fails the rebuild then
      await ready;
      const refused = await Promise.all(
        group.map(async ({ model, index }) => {
          const types = model.projection.streamTypes;
          const events =
            types.length === 0 ? page : page.filter((e) => types.includes(e.streamType));
          if (events.length === 0) return 0;
          const result = await this.opts.engine.project(events, [
            { model, index, trustOwnWrites: true, fresh },
          ]);
          for (const [at, reason] of result.rejected) {
            this.log.warn(
              { name: model.projection.name, eventId: events[at]?.eventId, reason },
              'rebuild: event refused',
            );
          }
          return result.rejected.size;
        }),
      );
      after = last;
      group.forEach(({ model }, i) => {
        const name = model.projection.name;
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
          refused: p.refused + refused[i]!,
        });
      });
      if (end) return after;
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

function initialProgress(name: string, index: string): RebuildProgress {
  return {
    name,
    state: 'replaying',
    index,
    startedAt: now(),
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
}

const now = () => new Date().toISOString();
