import type { AggregateState, AnyAggregateDefinition } from '../definition';
import { Mailbox } from './mailbox';

/** One live aggregate: its last known state and its mailbox. */
export class AggregateActor {
  readonly mailbox = new Mailbox();
  /** Undefined until loaded, and again after an append whose outcome is unknown. */
  state: AggregateState | undefined;
  lastUsedAt: number;

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
 * Bounded LRU of actors (a Map keeps insertion order: re-inserting on use moves an actor
 * to the young end). Busy actors are never evicted, so the bound may be exceeded briefly
 * when every cached actor is working.
 */
export class ActorCache {
  private readonly actors = new Map<string, AggregateActor>();

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
      this.actors.delete(key);
    } else {
      actor = create();
    }
    actor.lastUsedAt = now;
    this.actors.set(key, actor);
    if (this.actors.size > this.maxSize) this.evictOldest(this.actors.size - this.maxSize, key);
    this.onSizeChanged(this.actors.size);
    return actor;
  }

  /** Passivates actors idle since before `idleSince`; returns how many. */
  passivateIdle(idleSince: number): number {
    let removed = 0;
    for (const [key, actor] of this.actors) {
      if (!actor.busy && actor.lastUsedAt < idleSince) {
        this.actors.delete(key);
        removed++;
      }
    }
    if (removed > 0) this.onSizeChanged(this.actors.size);
    return removed;
  }

  all(): IterableIterator<AggregateActor> {
    return this.actors.values();
  }

  clear(): void {
    this.actors.clear();
    this.onSizeChanged(0);
  }

  private evictOldest(count: number, keep: string): void {
    let left = count;
    for (const [key, actor] of this.actors) {
      if (left === 0) return;
      if (actor.busy || key === keep) continue;
      this.actors.delete(key);
      left--;
    }
  }
}
