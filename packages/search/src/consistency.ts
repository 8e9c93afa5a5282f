import { formatConsistencyToken, type StreamVersion } from '@cqrs/core';

/** Reads the versions of streams that are searchable now, for streams the tracker has not heard of. */
export type VersionLookup = (
  streams: readonly StreamVersion[],
) => Promise<ReadonlyMap<string, number>>;

export interface ConsistencyTrackerOptions {
  /** Asked once per request for streams the tracker knows nothing about (e.g. after a restart). */
  readonly lookup?: VersionLookup;
  /** Streams remembered at most; the least recently announced are forgotten first. */
  readonly maxStreams?: number;
}

interface Waiter {
  readonly pending: Map<string, number>;
  readonly done: () => void;
}

export const streamKey = (s: { streamType: string; streamId: string }) =>
  `${s.streamType}:${s.streamId}`;

/**
 * Read-your-writes without polling: the projector announces, after each batch is written
 * AND refreshed, the version every stream of the batch has reached in all read models;
 * requests holding consistency tokens wait on those announcements. For streams announced
 * before this process started, the tracker asks `lookup` once (one search per request),
 * never repeatedly. See docs/read-your-writes.md.
 */
export class ConsistencyTracker {
  private readonly versions = new Map<string, number>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly maxStreams: number;

  constructor(private readonly opts: ConsistencyTrackerOptions = {}) {
    this.maxStreams = opts.maxStreams ?? 200_000;
  }

  /** The projector (here or in another process) reached these versions. */
  applied(streams: Iterable<StreamVersion>): void {
    for (const s of streams) this.record(streamKey(s), s.version);
  }

  /** The version known to be searchable, if any. */
  versionOf(stream: { streamType: string; streamId: string }): number | undefined {
    return this.versions.get(streamKey(stream));
  }

  /**
   * Resolves with the tokens not reached within `timeoutMs` (empty when all were reached).
   */
  async waitFor(tokens: readonly StreamVersion[], timeoutMs: number): Promise<StreamVersion[]> {
    let missing = tokens.filter((t) => !this.reached(t));
    if (missing.length > 0 && this.opts.lookup) {
      const unknown = missing.filter((t) => this.versions.get(streamKey(t)) === undefined);
      if (unknown.length > 0) {
        const found = await this.opts.lookup(unknown);
        for (const [key, version] of found) this.record(key, version);
        missing = missing.filter((t) => !this.reached(t));
      }
    }
    if (missing.length === 0) return [];

    const keys = missing.map(streamKey);
    const waiter: Waiter = {
      pending: new Map(missing.map((t) => [streamKey(t), t.version])),
      done: () => undefined,
    };
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      (waiter as { done: () => void }).done = () => {
        clearTimeout(timer);
        resolve();
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
    return missing.filter((t) => !this.reached(t));
  }

  private reached(t: StreamVersion): boolean {
    return (this.versions.get(streamKey(t)) ?? 0) >= t.version;
  }

  private record(key: string, version: number): void {
    const known = this.versions.get(key);
    if (known !== undefined && known >= version) return;
    // Re-inserting moves the key to the end: the Map's order is the eviction order.
    this.versions.delete(key);
    this.versions.set(key, version);
    if (this.versions.size > this.maxStreams) {
      const oldest = this.versions.keys().next().value;
      if (oldest !== undefined) this.versions.delete(oldest);
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

/** `reservation:r-1@2`, for 504 bodies and logs. */
export const describeTokens = (tokens: readonly StreamVersion[]) =>
  tokens.map(formatConsistencyToken);
