import {
  ClaimConflictError,
  ConcurrencyConflictError,
  DomainRejectionError,
  IdempotencyConflictError,
  NotFoundError,
  ValidationError,
  systemClock,
  uuidV7,
  type AppendResult,
  type Clock,
  type Command,
  type EventMetadata,
  type EventStorePort,
  type IdGenerator,
} from '@cqrs/core';
import type { StateValue } from 'xstate';
import { scheduleDeadlines } from '../deadlines';
import {
  decide,
  parseCommand,
  rejectionError,
  type DecisionOutcome,
  type ValidCommand,
} from '../decide';
import type {
  AggregateRegistry,
  AggregateState,
  AnyAggregateDefinition,
  DecideDeps,
  MachineOf,
} from '../definition';
import { initialState, replay } from '../replay';
import { fromSnapshotRecord, toSnapshotRecord } from '../snapshot';
import { ActorCache, AggregateActor } from './actor-cache';

export interface ExecuteRequest {
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly command: Command;
  /** Pinned by the caller (If-Match): a mismatch is a 409, never retried. 0 = must not exist. */
  readonly expectedVersion?: number;
  readonly metadata: EventMetadata;
  /** Recorded with the events in the same transaction. */
  readonly idempotency?: { readonly key: string; readonly fingerprint: string };
}

export interface ExecuteResult {
  readonly result: AppendResult;
  /** The command created the stream (its first event is version 1). */
  readonly created: boolean;
}

/** The write-side view of one aggregate (GET /aggregates/{type}/{id}). */
export interface AggregateView {
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly version: number;
  readonly state: StateValue;
  readonly context: unknown;
}

export type CommandOutcome =
  | 'accepted'
  | 'rejected'
  | 'invalid'
  | 'not-found'
  | 'conflict'
  | 'idempotency-conflict'
  | 'failed';

export interface CommandObservation {
  readonly aggregateType: string;
  readonly commandType: string;
  readonly outcome: CommandOutcome;
  /** Decisions retried after a concurrency conflict. */
  readonly retries: number;
  readonly durationMs: number;
}

/** Callbacks the host turns into metrics and logs; the package itself imports neither. */
export interface RuntimeHooks {
  onCommand?(observation: CommandObservation): void;
  onLiveActorsChanged?(liveActors: number): void;
  /** Failures the runtime survives (a snapshot that could not be saved). */
  onError?(
    error: unknown,
    context: { operation: string; aggregateType: string; aggregateId: string },
  ): void;
}

export interface AggregateRuntimeOptions {
  readonly store: EventStorePort;
  readonly aggregates: AggregateRegistry;
  readonly clock?: Clock;
  readonly newId?: IdGenerator;
  /** Live actors kept in memory (LRU beyond). Default 10 000. */
  readonly cacheMaxSize?: number;
  /** An actor unused this long is dropped from memory. Default 5 minutes; 0 disables the sweep. */
  readonly idlePassivationMs?: number;
  /** Save a snapshot each time a stream crosses a multiple of N versions. Default 100; 0 = never. */
  readonly snapshotEvery?: number;
  /** Re-decisions after a concurrency conflict before giving up with a 409. Default 5. */
  readonly maxRetries?: number;
  /** Base of the exponential, fully jittered backoff between retries. Default 5 ms. */
  readonly retryBaseDelayMs?: number;
  readonly random?: () => number;
  readonly hooks?: RuntimeHooks;
  /**
   * Durations of the machines' named delays in milliseconds (configuration such as
   * RESERVATION_HOLD_MINUTES), overriding the machines' own `delays`.
   */
  readonly delays?: Readonly<Record<string, number>>;
}

export interface RuntimeStats {
  readonly liveActors: number;
  readonly commands: Readonly<Record<CommandOutcome, number>>;
}

const MAX_RETRY_DELAY_MS = 250;

/**
 * Hosts aggregates as virtual actors: one per live aggregate, created on first use (loaded
 * from snapshot + tail), serialised by a mailbox, kept in a bounded LRU and passivated when
 * idle. Correctness across processes rests on the store's unique (stream, version); the
 * cache only saves the read before a decision.
 */
export class AggregateRuntime {
  private readonly store: EventStorePort;
  private readonly aggregates: AggregateRegistry;
  private readonly clock: Clock;
  private readonly newId: IdGenerator;
  private readonly cache: ActorCache;
  private readonly idlePassivationMs: number;
  private readonly snapshotEvery: number;
  private readonly maxRetries: number;
  private readonly retryBaseDelayMs: number;
  private readonly random: () => number;
  private readonly hooks: RuntimeHooks;
  private readonly delays: Readonly<Record<string, number>>;
  private readonly pendingSnapshots = new Set<Promise<void>>();
  private readonly counters: Record<CommandOutcome, number> = {
    accepted: 0,
    rejected: 0,
    invalid: 0,
    'not-found': 0,
    conflict: 0,
    'idempotency-conflict': 0,
    failed: 0,
  };
  private sweep: NodeJS.Timeout | undefined;

  constructor(options: AggregateRuntimeOptions) {
    this.store = options.store;
    this.aggregates = options.aggregates;
    this.clock = options.clock ?? systemClock;
    this.newId = options.newId ?? uuidV7;
    this.hooks = options.hooks ?? {};
    this.delays = options.delays ?? {};
    this.idlePassivationMs = options.idlePassivationMs ?? 5 * 60_000;
    this.snapshotEvery = options.snapshotEvery ?? 100;
    this.maxRetries = options.maxRetries ?? 5;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 5;
    this.random = options.random ?? Math.random;
    this.cache = new ActorCache(options.cacheMaxSize ?? 10_000, (n) =>
      this.hooks.onLiveActorsChanged?.(n),
    );
    if (this.idlePassivationMs > 0) {
      const every = Math.max(1_000, Math.min(this.idlePassivationMs / 2, 60_000));
      this.sweep = setInterval(() => this.passivateIdle(), every);
      this.sweep.unref();
    }
  }

  /** Decides and appends one command; see ExecuteRequest for the version semantics. */
  async execute(request: ExecuteRequest): Promise<ExecuteResult> {
    const started = performance.now();
    let retries = 0;
    try {
      const definition = this.definition(request.aggregateType);
      const valid = parseCommand(definition, request.command);
      const actor = this.actor(definition, request.aggregateId);
      const result = await actor.mailbox.run(() =>
        this.decideAndAppend(actor, valid, request, (n) => {
          retries = n;
        }),
      );
      this.observe(request, 'accepted', retries, started);
      return result;
    } catch (error) {
      this.observe(request, outcomeOf(error), retries, started);
      throw error;
    }
  }

  /**
   * The current state of an aggregate, refreshed from the store (one read of the tail
   * when the actor is live). NotFoundError when the stream has no events.
   */
  async load(aggregateType: string, aggregateId: string): Promise<AggregateView> {
    const definition = this.definition(aggregateType);
    const actor = this.actor(definition, aggregateId);
    const state = await actor.mailbox.run(() => this.refresh(actor));
    if (state.version === 0) {
      throw new NotFoundError(`${aggregateType} ${aggregateId} does not exist`, {
        aggregateType,
        aggregateId,
      });
    }
    return {
      aggregateType,
      aggregateId,
      version: state.version,
      state: state.value,
      context: state.context,
    };
  }

  stats(): RuntimeStats {
    return { liveActors: this.cache.size, commands: { ...this.counters } };
  }

  /** Drops actors idle longer than `idlePassivationMs`; the timer calls this too. */
  passivateIdle(): number {
    return this.cache.passivateIdle(this.clock.now().getTime() - this.idlePassivationMs);
  }

  /** Resolves when snapshot writes started so far have finished (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.pendingSnapshots]);
  }

  /** Waits for queued commands and snapshot writes, then forgets every actor. */
  async close(): Promise<void> {
    if (this.sweep) clearInterval(this.sweep);
    this.sweep = undefined;
    await Promise.all([...this.cache.all()].map((a) => a.mailbox.idle()));
    await this.flush();
    this.cache.clear();
  }

  private definition(aggregateType: string): AnyAggregateDefinition {
    const definition = this.aggregates.get(aggregateType);
    if (!definition) {
      throw new NotFoundError(`Unknown aggregate type "${aggregateType}"`, { aggregateType });
    }
    return definition;
  }

  private actor(definition: AnyAggregateDefinition, aggregateId: string): AggregateActor {
    const key = `${definition.type}:${aggregateId}`;
    const now = this.clock.now().getTime();
    return this.cache.use(key, () => new AggregateActor(key, definition, aggregateId, now), now);
  }

  /** Runs inside the actor's mailbox. */
  private async decideAndAppend(
    actor: AggregateActor,
    valid: ValidCommand,
    request: ExecuteRequest,
    onRetry: (retries: number) => void,
  ): Promise<ExecuteResult> {
    const pinned = request.expectedVersion;
    if (!actor.state && (pinned === undefined || pinned === 0)) {
      const created = await this.createUnread(actor, valid, request);
      if (created) return created;
    }
    let state = actor.state ?? (await this.reload(actor));
    // A pinned version above ours may be real (another process appended): look before
    // calling it a conflict. Versions only grow, so a pinned version below ours is one.
    if (pinned !== undefined && state.version < pinned) state = await this.refresh(actor);

    for (let attempt = 0; ; attempt++) {
      if (pinned !== undefined && state.version !== pinned) {
        throw new ConcurrencyConflictError(this.streamName(actor), pinned, state.version);
      }
      const decision = await decide(actor.definition, state, valid, this.deps);
      let result: AppendResult;
      try {
        result = await this.append(actor, state, decision, request);
      } catch (error) {
        if (!(error instanceof ConcurrencyConflictError)) throw error;
        state = await this.refresh(actor);
        if (pinned !== undefined) {
          throw new ConcurrencyConflictError(this.streamName(actor), pinned, state.version);
        }
        if (attempt >= this.maxRetries) throw error;
        const earlier = await this.earlierResult(request);
        if (earlier) return earlier;
        onRetry(attempt + 1);
        await delay(this.retryDelay(attempt));
        continue;
      }
      this.appended(actor, state, decision, result);
      return { result, created: state.version === 0 };
    }
  }

  /**
   * A stream this process has not read, and a command its initial state accepts (a creating
   * command such as RegisterCustomer on a fresh id): decided on the initial state and appended
   * at version 0 with no read first - the store's unique (stream, version) checks the guess.
   * Undefined when the guess was wrong (the stream exists: nothing was written) or the initial
   * state refuses the command: the caller then reads the stream and decides again, and that
   * decision's answer is the one given. A new stream's command costs one round trip instead
   * of three (snapshot lookup, stream read, append; docs/performance.md "Freshness").
   */
  private async createUnread(
    actor: AggregateActor,
    valid: ValidCommand,
    request: ExecuteRequest,
  ): Promise<ExecuteResult | undefined> {
    const initial = initialState(actor.definition, actor.aggregateId);
    // Any refusal here is about the guessed state, not the stream: the real decision,
    // on what the store holds, gives the answer (its own refusal included).
    const decision = await decide(actor.definition, initial, valid, this.deps).catch(() => null);
    if (!decision) return undefined;
    let result: AppendResult;
    try {
      result = await this.append(actor, initial, decision, request);
    } catch (error) {
      if (error instanceof ConcurrencyConflictError) return undefined;
      throw error;
    }
    this.appended(actor, initial, decision, result);
    return { result, created: true };
  }

  /**
   * Appends a decision taken on `state`. A claim taken by another stream is the aggregate's
   * refusal (deciding again cannot change it); after any other failure but a concurrency
   * conflict the append may or may not have committed, so the actor forgets its state.
   */
  private async append(
    actor: AggregateActor,
    state: AggregateState,
    decision: DecisionOutcome,
    request: ExecuteRequest,
  ): Promise<AppendResult> {
    const { definition, aggregateId } = actor;
    const { cancel, start } = decision.deadlines;
    try {
      return await this.store.appendToStream({
        streamType: definition.type,
        streamId: aggregateId,
        expectedVersion: state.version,
        events: decision.events,
        metadata: request.metadata,
        idempotency: request.idempotency,
        ...(decision.claims ? { claims: decision.claims } : {}),
        ...(cancel.length + start.length > 0
          ? {
              deadlines: scheduleDeadlines(
                definition,
                decision.deadlines,
                decision.state,
                this.clock.now(),
                this.delays,
              ),
            }
          : {}),
      });
    } catch (error) {
      // Nothing was written; the state is still current.
      if (error instanceof ClaimConflictError) throw this.claimRejection(definition, state, error);
      if (!(error instanceof ConcurrencyConflictError)) actor.state = undefined;
      throw error;
    }
  }

  /** After an append: the actor holds the decision's state (or reloads if the store disagrees). */
  private appended(
    actor: AggregateActor,
    from: AggregateState,
    decision: DecisionOutcome,
    result: AppendResult,
  ): void {
    // When the store's count disagrees with ours, trust it: reload next time.
    actor.state = result.version === decision.state.version ? decision.state : undefined;
    this.maybeSnapshot(actor, from.version, result.version);
  }

  private claimRejection(
    definition: AnyAggregateDefinition,
    state: AggregateState,
    conflict: ClaimConflictError,
  ): Error {
    if (!definition.claims) return conflict;
    return rejectionError(definition.claims.rejection(conflict.taken, state), state);
  }

  /**
   * After a conflict, the conflicting writer may have been this very request (a client
   * retry through another process): its idempotency record then holds the answer.
   */
  private async earlierResult(request: ExecuteRequest): Promise<ExecuteResult | undefined> {
    if (!request.idempotency) return undefined;
    const record = await this.store.findIdempotencyRecord(request.idempotency.key);
    if (!record) return undefined;
    if (record.fingerprint !== request.idempotency.fingerprint) {
      throw new IdempotencyConflictError('mismatch', request.idempotency.key);
    }
    return { result: record.result, created: record.result.events[0]?.version === 1 };
  }

  /** What decisions may use; one object for all of them (it holds no per-command state). */
  private readonly deps: DecideDeps = {
    now: () => this.clock.now(),
    newId: () => this.newId(),
    load: <D extends AnyAggregateDefinition>(definition: D, aggregateId: string) =>
      this.readStrongly(definition, aggregateId) as Promise<AggregateState<MachineOf<D>>>,
  };

  /**
   * Another aggregate's state for a decision: read from the store, starting from its cached
   * state when there is one (one read of the tail), and cached for the next reader. It does
   * not wait for that aggregate's mailbox (two decisions reading each other would
   * deadlock); states are immutable, so reading beside a running decision is safe.
   */
  private async readStrongly(
    definition: AnyAggregateDefinition,
    aggregateId: string,
  ): Promise<AggregateState> {
    const actor = this.actor(definition, aggregateId);
    const base = actor.state ?? (await this.fromSnapshot(definition, aggregateId));
    const tail = await this.store.readStream(definition.type, aggregateId, base.version);
    const state = replay(definition, base, tail);
    // Only ever move a cached state forward, and never under a running decision.
    if (!actor.busy && (!actor.state || state.version > actor.state.version)) {
      actor.state = state;
    }
    return state;
  }

  /** First use: latest usable snapshot, then the events after it. */
  private async reload(actor: AggregateActor): Promise<AggregateState> {
    const base = await this.fromSnapshot(actor.definition, actor.aggregateId);
    const tail = await this.store.readStream(
      actor.definition.type,
      actor.aggregateId,
      base.version,
    );
    actor.state = replay(actor.definition, base, tail);
    return actor.state;
  }

  /** Catches a live actor up with the store (one read); loads it when not live. */
  private async refresh(actor: AggregateActor): Promise<AggregateState> {
    if (!actor.state) return this.reload(actor);
    const tail = await this.store.readStream(
      actor.definition.type,
      actor.aggregateId,
      actor.state.version,
    );
    actor.state = replay(actor.definition, actor.state, tail);
    return actor.state;
  }

  private async fromSnapshot(
    definition: AnyAggregateDefinition,
    aggregateId: string,
  ): Promise<AggregateState> {
    if (this.snapshotEvery > 0) {
      const record = await this.store.loadSnapshot(definition.type, aggregateId);
      const restored = record ? fromSnapshotRecord(definition, record) : undefined;
      if (restored) return restored;
    }
    return initialState(definition, aggregateId);
  }

  private maybeSnapshot(actor: AggregateActor, from: number, to: number): void {
    const n = this.snapshotEvery;
    if (n <= 0 || Math.floor(to / n) === Math.floor(from / n) || !actor.state) return;
    // Off the command's path: a lost snapshot costs a longer replay, nothing else.
    const write = this.store
      .saveSnapshot(toSnapshotRecord(actor.definition, actor.state))
      .catch((error: unknown) =>
        this.hooks.onError?.(error, {
          operation: 'saveSnapshot',
          aggregateType: actor.definition.type,
          aggregateId: actor.aggregateId,
        }),
      )
      .finally(() => this.pendingSnapshots.delete(write));
    this.pendingSnapshots.add(write);
  }

  private retryDelay(attempt: number): number {
    const ceiling = Math.min(MAX_RETRY_DELAY_MS, this.retryBaseDelayMs * 2 ** attempt);
    return Math.floor(this.random() * ceiling);
  }

  private streamName(actor: AggregateActor): string {
    return `${actor.definition.type}:${actor.aggregateId}`;
  }

  private observe(
    request: ExecuteRequest,
    outcome: CommandOutcome,
    retries: number,
    started: number,
  ): void {
    this.counters[outcome]++;
    this.hooks.onCommand?.({
      aggregateType: request.aggregateType,
      commandType: request.command.type,
      outcome,
      retries,
      durationMs: performance.now() - started,
    });
  }
}

function outcomeOf(error: unknown): CommandOutcome {
  if (error instanceof DomainRejectionError) return 'rejected';
  if (error instanceof ValidationError) return 'invalid';
  if (error instanceof NotFoundError) return 'not-found';
  if (error instanceof ConcurrencyConflictError) return 'conflict';
  if (error instanceof IdempotencyConflictError) return 'idempotency-conflict';
  return 'failed';
}

function delay(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
