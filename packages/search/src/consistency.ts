import { formatConsistencyToken, streamKey, type StreamVersion } from '@cqrs/core';

/**
 * Reads the versions the read models hold for streams the tracker has not heard of (a
 * real-time read: applied, not necessarily searchable yet).
 */
export type VersionLookup = (
  streams: readonly StreamVersion[],
) => Promise<ReadonlyMap<string, number>>;

export interface ConsistencyTrackerOptions {
  /** Asked once per request for streams the tracker knows nothing about (e.g. after a restart). */
  readonly lookup?: VersionLookup;
  /**
   * Makes everything applied so far searchable (one `_refresh` of the read models). Without
   * it, what is applied counts as searchable (a projector that refreshes by itself).
   */
  readonly refresh?: () => Promise<void>;
  /** Streams remembered at most; the least recently announced are forgotten first. */
  readonly maxStreams?: number;
}

interface Waiter {
  readonly pending: Map<string, number>;
  done: () => void;
}

interface StreamState {
  /** Highest version applied (announced by a projector or read in real time). */
  applied: number;
  /** The tracker's sequence number when `applied` was recorded. */
  seq: number;
  /** Highest version known to be searchable. */
  searchable: number;
}

/**
 * Read-your-writes without polling, with two watermarks per stream: **applied** (the
 * projector announces, after each batch is written, the version every stream of the batch
 * has reached in all read models) and **searchable** (a `_refresh` that started after the
 * announcement completed). A request whose tokens are applied but not yet searchable
 * triggers one coalesced refresh - at most one in flight per process, later requests join
 * it or the single one queued behind it - and is answered when it completes; a request
 * whose tokens are not applied yet waits for the announcement first. For streams announced
 * before this process started, the tracker asks `lookup` once per request. See
 * docs/read-your-writes.md.
 */
export class ConsistencyTracker {
  private readonly streams = new Map<string, StreamState>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly maxStreams: number;
  /** Incremented by every applied version recorded. */
  private seq = 0;
  /** Every version recorded at or below this sequence number is searchable. */
  private searchableSeq = 0;
  private inFlight: { readonly upTo: number; readonly done: Promise<void> } | undefined;
  private queued: Promise<void> | undefined;

  constructor(private readonly opts: ConsistencyTrackerOptions = {}) {
    this.maxStreams = opts.maxStreams ?? 200_000;
  }

  /** The projector (here or in another process) applied these versions. */
  applied(streams: Iterable<StreamVersion>): void {
    for (const s of streams) this.record(streamKey(s), s.version);
  }

  /**
   * Makes everything applied so far searchable, joining a refresh in flight that covers it
   * (for a projector that wants plain searches to see its writes soon).
   */
  refreshApplied(): Promise<void> {
    return this.opts.refresh ? this.refreshUpTo(this.seq) : Promise.resolve();
  }

  /** The version known to be searchable, if any. */
  versionOf(stream: { streamType: string; streamId: string }): number | undefined {
    const s = this.streams.get(streamKey(stream));
    if (!s) return undefined;
    return this.covered(s) ? s.applied : s.searchable;
  }

  /**
   * Resolves with the tokens not searchable within `timeoutMs` (empty when all are).
   * Rejects when the refresh a request needs fails (Elasticsearch unavailable).
   */
  async waitFor(tokens: readonly StreamVersion[], timeoutMs: number): Promise<StreamVersion[]> {
    const deadline = Date.now() + timeoutMs;
    const notSearchable = () => tokens.filter((t) => !this.isSearchable(t));
    let missing = notSearchable();
    if (missing.length > 0 && this.opts.lookup) {
      const unknown = missing.filter((t) => !this.streams.has(streamKey(t)));
      if (unknown.length > 0) {
        const found = await this.opts.lookup(unknown);
        for (const [key, version] of found) this.record(key, version);
      }
    }
    for (;;) {
      missing = notSearchable();
      const remaining = deadline - Date.now();
      if (missing.length === 0 || remaining <= 0) return missing;
      const unapplied = missing.filter((t) => !this.isApplied(t));
      if (unapplied.length > 0) {
        if (!(await this.untilApplied(unapplied, remaining))) return notSearchable();
        continue;
      }
      const upTo = Math.max(...missing.map((t) => this.streams.get(streamKey(t))?.seq ?? this.seq));
      if (!(await withTimeout(this.refreshUpTo(upTo), remaining))) return notSearchable();
    }
  }

  private isApplied(t: StreamVersion): boolean {
    return (this.streams.get(streamKey(t))?.applied ?? 0) >= t.version;
  }

  private isSearchable(t: StreamVersion): boolean {
    const s = this.streams.get(streamKey(t));
    if (!s) return false;
    return s.searchable >= t.version || (s.applied >= t.version && this.covered(s));
  }

  /** Whether the stream's applied version is searchable (always, without a refresh function). */
  private covered(s: StreamState): boolean {
    return !this.opts.refresh || s.seq <= this.searchableSeq;
  }

  /**
   * One refresh covering everything recorded up to `seq`: the one in flight if it started
   * after that, else the single one queued behind it.
   */
  private refreshUpTo(seq: number): Promise<void> {
    if (this.searchableSeq >= seq) return Promise.resolve();
    if (this.inFlight && this.inFlight.upTo >= seq) return this.inFlight.done;
    if (!this.queued) {
      const previous = this.inFlight?.done.catch(() => undefined) ?? Promise.resolve();
      this.queued = previous.then(() => {
        this.queued = undefined;
        return this.startRefresh();
      });
      void this.queued.catch(() => undefined); // its waiters may all have timed out
    }
    return this.queued;
  }

  private startRefresh(): Promise<void> {
    const upTo = this.seq;
    const done = this.opts.refresh!().then(() => {
      this.searchableSeq = Math.max(this.searchableSeq, upTo);
    });
    const inFlight = { upTo, done };
    this.inFlight = inFlight;
    void done
      .catch(() => undefined)
      .finally(() => {
        if (this.inFlight === inFlight) this.inFlight = undefined;
      });
    return done;
  }

  /** Resolves true once every token is applied, false at the timeout. */
  private async untilApplied(
    tokens: readonly StreamVersion[],
    timeoutMs: number,
  ): Promise<boolean> {
    const keys = tokens.map(streamKey);
    const waiter: Waiter = {
      pending: new Map(tokens.map((t) => [streamKey(t), t.version])),
      done: () => undefined,
    };
    const reached = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      waiter.done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      for (const key of keys) {
        let set = this.waiters.get(key);
        if (!set) this.waiters.set(key, (set = new Set()));
        set.add(waiter);
      }
    });
    for (const key of keys) {
      const set = this.waiters.get(key);
      set?.delete(waiter);
      if (set?.size === 0) this.waiters.delete(key);
    }
    return reached;
  }

  private record(key: string, version: number): void {
    const known = this.streams.get(key);
    if (known && known.applied >= version) return;
    const state: StreamState = known ?? { applied: 0, seq: 0, searchable: 0 };
    // Keep what the last refresh covered before the newer version replaces it.
    if (known && this.covered(known)) state.searchable = known.applied;
    state.applied = version;
    state.seq = ++this.seq;
    // Re-inserting moves the key to the end: the Map's order is the eviction order.
    this.streams.delete(key);
    this.streams.set(key, state);
    if (this.streams.size > this.maxStreams) {
      const oldest = this.streams.keys().next().value;
      if (oldest !== undefined) this.streams.delete(oldest);
    }
    const set = this.waiters.get(key);
    if (!set) return;
    for (const w of set) {
      const wanted = w.pending.get(key);
      if (wanted !== undefined && version >= wanted) {
        w.pending.delete(key);
        if (w.pending.size === 0) w.done();
      }
    }
  }
}

/** Resolves true when `promise` resolves within `ms`, false otherwise; rejects with it. */
async function withTimeout(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** `reservation:r-1@2`, for 504 bodies and logs. */
export const describeTokens = (tokens: readonly StreamVersion[]) =>
  tokens.map(formatConsistencyToken);
