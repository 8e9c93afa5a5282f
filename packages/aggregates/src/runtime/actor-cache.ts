import type { AggregateState, AnyAggregateDefinition } from '../definition';
import { Mailbox } from './mailbox';

/** One live aggregate: its last known state and its mailbox. */
export class AggregateActor {
  readonly mailbox = new Mailbox();
  /** Undefined until loaded, and again after an append whose outcome is unknown. */
  state: AggregateState | undefined;
  lastUsedAt: number;
  /** Neighbours in the cache's use order (see ActorCache). */
  older: AggregateActor | undefined;
  newer: AggregateActor | undefined;

  constructor(
    readonly key: string,
    readonly definition: AnyAggregateDefinition,
    readonly aggregateId: string,
    now: number,
  ) {
    this.lastUsedAt = now;
  }

  get busy(): boolean {
    return this.mailbox.size > 0;
  }
}

/**
 * Bounded LRU of actors: a Map finds them, a doubly linked list through the actors keeps the
 * use order (oldest first). Busy actors are never evicted, so the bound may be exceeded
 * briefly when every cached actor is working.
 *
 * Not a Map's insertion order alone: deleting from the front of a Map leaves holes that
 * every later iteration from the front walks over again, so evicting one actor per command
 * (a full cache of new aggregates) cost more than the rest of the runtime together.
 */
export class ActorCache {
  private readonly actors = new Map<string, AggregateActor>();
  private oldest: AggregateActor | undefined;
  private newest: AggregateActor | undefined;

  constructor(
    private readonly maxSize: number,
    private readonly onSizeChanged: (size: number) => void,
  ) {}

  get size(): number {
    return this.actors.size;
  }

  peek(key: string): AggregateActor | undefined {
    return this.actors.get(key);
  }

  /** The actor for a key, created when absent; marks it most recently used. */
  use(key: string, create: () => AggregateActor, now: number): AggregateActor {
    let actor = this.actors.get(key);
    if (actor) {
      actor.lastUsedAt = now;
      if (actor !== this.newest) {
        this.unlink(actor);
        this.append(actor);
      }
      // Over the bound only when every actor was busy at the last insert.
      if (this.actors.size > this.maxSize) this.shrink(actor);
      return actor;
    }
    actor = create();
    actor.lastUsedAt = now;
    this.actors.set(key, actor);
    this.append(actor);
    if (this.actors.size > this.maxSize) this.shrink(actor);
    else this.onSizeChanged(this.actors.size);
    return actor;
  }

  /** Passivates actors idle since before `idleSince`; returns how many. */
  passivateIdle(idleSince: number): number {
    let removed = 0;
    for (let actor = this.oldest; actor;) {
      const next = actor.newer;
      if (!actor.busy && actor.lastUsedAt < idleSince) {
        this.remove(actor);
        removed++;
      }
      actor = next;
    }
    if (removed > 0) this.onSizeChanged(this.actors.size);
    return removed;
  }

  all(): IterableIterator<AggregateActor> {
    return this.actors.values();
  }

  clear(): void {
    for (let actor = this.oldest; actor;) {
      const next = actor.newer;
      actor.older = actor.newer = undefined;
      actor = next;
    }
    this.oldest = this.newest = undefined;
    this.actors.clear();
    this.onSizeChanged(0);
  }

  /** Evicts the oldest idle actors down to the bound (never `keep`, the one just used). */
  private shrink(keep: AggregateActor): void {
    let left = this.actors.size - this.maxSize;
    for (let actor = this.oldest; actor && left > 0;) {
      const next = actor.newer;
      if (!actor.busy && actor !== keep) {
        this.remove(actor);
        left--;
      }
      actor = next;
    }
    this.onSizeChanged(this.actors.size);
  }

  private remove(actor: AggregateActor): void {
    this.actors.delete(actor.key);
    this.unlink(actor);
  }

  private append(actor: AggregateActor): void {
    actor.older = this.newest;
    actor.newer = undefined;
    if (this.newest) this.newest.newer = actor;
    else this.oldest = actor;
    this.newest = actor;
  }

  private unlink(actor: AggregateActor): void {
    if (actor.older) actor.older.newer = actor.newer;
    else this.oldest = actor.newer;
    if (actor.newer) actor.newer.older = actor.older;
    else this.newest = actor.older;
    actor.older = actor.newer = undefined;
  }
}
