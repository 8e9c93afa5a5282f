import type { Progress } from './progress';

/** One row of `bench-results/latest.json` (the shape the issue asks for, plus notes). */
export interface ResultRow {
  readonly id: string;
  /** Our path's figure; null when the row could not be measured (see `note`). */
  readonly ours: number | null;
  /** The raw baseline's figure in the same run; null where the row has none. */
  readonly baseline: number | null;
  readonly unit: string;
  /** ours / baseline (throughput rows: the median of the per-pair ratios); null without one. */
  readonly ratio: number | null;
  /** ours / baseline of each measured A/B pair, whose min-max the table prints as the spread. */
  readonly ratioRounds?: readonly number[];
  /** Human-readable target, e.g. `ratio >= 0.85` or `p99 <= 50 ms`. */
  readonly target: string;
  /** Whether the target was met; null when not measured. */
  readonly met: boolean | null;
  /** Our path's latency percentiles in milliseconds (null where not meaningful). */
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly note?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** A row that could not be measured: it says why, and carries no number. */
export function unavailable(id: string, unit: string, target: string, why: string): ResultRow {
  return {
    id,
    ours: null,
    baseline: null,
    unit,
    ratio: null,
    target,
    met: null,
    p50: null,
    p95: null,
    p99: null,
    note: `not available: ${why}`,
  };
}

/** Latency samples in milliseconds. */
export class Latencies {
  private samples = new Float64Array(1024);
  private n = 0;

  get count(): number {
    return this.n;
  }

  add(ms: number): void {
    if (this.n === this.samples.length) {
      const bigger = new Float64Array(this.samples.length * 2);
      bigger.set(this.samples);
      this.samples = bigger;
    }
    this.samples[this.n++] = ms;
  }

  addAll(other: Latencies): void {
    for (const v of other.values()) this.add(v);
  }

  values(): Float64Array {
    return this.samples.subarray(0, this.n);
  }

  percentiles(): { p50: number | null; p95: number | null; p99: number | null } {
    if (this.n === 0) return { p50: null, p95: null, p99: null };
    const sorted = Float64Array.from(this.values()).sort();
    const at = (q: number) => round(sorted[Math.min(this.n - 1, Math.floor(q * this.n))]!, 2);
    return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
  }
}

export interface LoopResult {
  readonly ops: number;
  readonly elapsedMs: number;
  readonly latencies: Latencies;
}

export interface ClosedLoopOptions {
  readonly concurrency: number;
  readonly durationMs: number;
  /** One operation; `worker` is 0..concurrency-1. A failure aborts the loop (no fake numbers). */
  readonly op: (worker: number) => Promise<void>;
  readonly onProgress?: (ops: number) => void;
}

/**
 * The part of a round that counts. It opens when the first `concurrency` operations have
 * completed (every worker has been through one: the ramp-up is over) and closes at the
 * first completion after the deadline once it holds `minOps` operations - by default ten
 * per worker, at least 100 - or at 4 x the duration, whichever comes first. Operations
 * still in flight when it closes finish but do not count. So neither the ramp nor the drain
 * enters the rate, and a round on a slow machine runs long enough to mean something.
 */
export class SteadyWindow {
  readonly latencies = new Latencies();
  private readonly started = performance.now();
  private readonly deadline: number;
  private readonly hardDeadline: number;
  private readonly minOps: number;
  private completed = 0;
  private opened: number | undefined;
  private closed: number | undefined;
  private ops = 0;

  constructor(
    private readonly concurrency: number,
    durationMs: number,
    minOps?: number,
  ) {
    this.deadline = this.started + durationMs;
    this.hardDeadline = this.started + 4 * durationMs;
    this.minOps = minOps ?? Math.max(100, 10 * concurrency);
  }

  /** Whether new operations should still start. */
  get open(): boolean {
    return this.closed === undefined && performance.now() < this.hardDeadline;
  }

  /** Operations completed so far, counted or not (for the progress line). */
  get count(): number {
    return this.completed;
  }

  /** One operation completed now, after `latencyMs`. */
  complete(latencyMs: number): void {
    const now = performance.now();
    this.completed++;
    if (this.closed !== undefined) return;
    if (this.opened === undefined) {
      if (this.completed >= this.concurrency) this.opened = now;
      return;
    }
    this.ops++;
    this.latencies.add(latencyMs);
    if (now >= this.hardDeadline || (now >= this.deadline && this.ops >= this.minOps)) {
      this.closed = now;
    }
  }

  /** The counted operations over the window's length (none when it never opened). */
  result(): LoopResult {
    const end = this.closed ?? performance.now();
    return {
      ops: this.ops,
      elapsedMs: end - (this.opened ?? this.started),
      latencies: this.latencies,
    };
  }
}

/**
 * `concurrency` workers, each running `op` back to back (closed loop: a new operation starts
 * when the previous one of that worker ends) while the steady window is open.
 */
export async function closedLoop(opts: ClosedLoopOptions): Promise<LoopResult> {
  const window = new SteadyWindow(opts.concurrency, opts.durationMs);
  let failure: unknown;
  const ticker = setInterval(() => opts.onProgress?.(window.count), 250);
  const worker = async (w: number) => {
    while (failure === undefined && window.open) {
      const t0 = performance.now();
      try {
        await opts.op(w);
      } catch (err) {
        failure ??= err;
        return;
      }
      window.complete(performance.now() - t0);
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, (_, w) => worker(w)));
  } finally {
    clearInterval(ticker);
  }
  if (failure !== undefined) throw failure;
  return window.result();
}

/**
 * How long the timed comparisons (closed loops) run. Quick is the full run made smaller -
 * fewer and shorter rounds - not different: the same warm-up, the same ABBA order, the same
 * median of per-pair ratios.
 */
export interface Timing {
  /** Measured A/B pairs. */
  readonly pairs: number;
  /** Length of one side's round. */
  readonly roundMs: number;
}

export const timing = (quick: boolean): Timing =>
  quick ? { pairs: 3, roundMs: 1000 } : { pairs: 5, roundMs: 2500 };

/**
 * The warm-up, the same in both modes: both sides run slices alternately until each side's
 * rate changed by at most `tolerance` from its previous slice (JIT, pools and caches have
 * settled), at least `minSlices` and at most `maxSlices` per side.
 */
export const WARMUP = { sliceMs: 500, minSlices: 2, maxSlices: 5, tolerance: 0.1 } as const;

/** Planned wall time of one timed comparison (for the ETA): typical warm-up plus the pairs. */
export const plannedComparisonMs = (quick: boolean): number => {
  const t = timing(quick);
  return 2 * 3 * WARMUP.sliceMs + 2 * t.pairs * t.roundMs;
};

/** What A/B rounds add up to for one side. */
export interface SideTotals {
  readonly ops: number;
  readonly elapsedMs: number;
  readonly perSecond: number;
  readonly latencies: Latencies;
  /** Rate of each measured round, to show the spread. */
  readonly roundRates: number[];
}

/** Both sides' totals, and ours / baseline of each measured pair. */
export interface AbTotals {
  readonly ours: SideTotals;
  readonly baseline: SideTotals;
  readonly pairRatios: number[];
  /** Warm-up slices or rounds each side ran before the measured pairs. */
  readonly warmup: number;
}

export interface AbOptions {
  readonly label: string;
  /** Measured pairs. */
  readonly pairs: number;
  /** Pairs run first and not counted (for benchmarks whose rounds warm themselves). */
  readonly warmupPairs?: number;
  readonly progress: Progress;
  /**
   * Our path, one round. Rounds are numbered 0.. over warm-up and measured pairs alike; in
   * the pairs run baseline first, the baseline's round r comes before ours, so a baseline
   * that replays what ours produced takes the latest round ours has finished.
   */
  readonly ours: (round: number) => Promise<LoopResult>;
  /** The raw baseline, one round. */
  readonly baseline: (round: number) => Promise<LoopResult>;
}

/**
 * Pairs of rounds in ABBA order - ours then baseline, then baseline then ours, and so on -
 * so a warming or cooling machine (caches, buffer pool, other processes) favours neither
 * side; each pair gives one ratio, measured minutes apart from nothing else.
 */
export async function abRounds(opts: AbOptions): Promise<AbTotals> {
  const sides = { ours: emptySide(), baseline: emptySide() };
  const pairRatios: number[] = [];
  const warmup = opts.warmupPairs ?? 0;
  for (let r = 0; r < warmup + opts.pairs; r++) {
    const measured = r >= warmup;
    const order = r % 2 === 0 ? (['ours', 'baseline'] as const) : (['baseline', 'ours'] as const);
    const rate = { ours: 0, baseline: 0 };
    for (const side of order) {
      opts.progress.phase(
        measured
          ? `${opts.label} ${side} round ${r - warmup + 1}/${opts.pairs}`
          : `${opts.label} ${side} warm-up round`,
      );
      const res = await opts[side](r);
      if (measured && res.ops === 0)
        throw new Error(`${opts.label}: a ${side} round completed nothing in its window`);
      rate[side] = (res.ops * 1000) / res.elapsedMs;
      if (!measured) continue;
      const s = sides[side];
      s.ops += res.ops;
      s.elapsedMs += res.elapsedMs;
      s.latencies.addAll(res.latencies);
      s.roundRates.push(round(rate[side], 1));
    }
    if (measured && rate.baseline > 0) pairRatios.push(rate.ours / rate.baseline);
  }
  return { ours: totals(sides.ours), baseline: totals(sides.baseline), pairRatios, warmup };
}

export interface TimedAbOptions {
  readonly label: string;
  readonly quick: boolean;
  readonly progress: Progress;
  /** Our path for `durationMs` (a closed loop, or any load that runs for that long). */
  readonly ours: (durationMs: number) => Promise<LoopResult>;
  readonly baseline: (durationMs: number) => Promise<LoopResult>;
}

/** A timed comparison: the warm-up (see WARMUP), then `timing(quick)` pairs in ABBA order. */
export async function timedAb(opts: TimedAbOptions): Promise<AbTotals> {
  const last = { ours: [] as number[], baseline: [] as number[] };
  const settled = (rates: number[]) => {
    const [prev, now] = rates.slice(-2);
    return prev !== undefined && now !== undefined && Math.abs(now / prev - 1) <= WARMUP.tolerance;
  };
  let slices = 0;
  while (slices < WARMUP.maxSlices) {
    slices++;
    for (const side of ['ours', 'baseline'] as const) {
      opts.progress.phase(`${opts.label} ${side} warm-up ${slices}`);
      const res = await opts[side](WARMUP.sliceMs);
      last[side].push(res.ops / res.elapsedMs);
    }
    if (slices >= WARMUP.minSlices && settled(last.ours) && settled(last.baseline)) break;
  }
  const t = timing(opts.quick);
  const measured = await abRounds({
    label: opts.label,
    pairs: t.pairs,
    progress: opts.progress,
    ours: () => opts.ours(t.roundMs),
    baseline: () => opts.baseline(t.roundMs),
  });
  return { ...measured, warmup: slices };
}

function emptySide() {
  return { ops: 0, elapsedMs: 0, latencies: new Latencies(), roundRates: [] as number[] };
}

function totals(s: ReturnType<typeof emptySide>): SideTotals {
  return { ...s, perSecond: s.elapsedMs > 0 ? (s.ops * 1000) / s.elapsedMs : 0 };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * A throughput row from A/B totals. `ours` and `baseline` are each side's operations over
 * its measured time; the ratio is the median of the per-pair ratios (a pair disturbed by
 * the machine moves it less than it moves a total), and `ratioRounds` holds them all, so
 * the table can show their spread. Met when the ratio >= minRatio.
 */
export function throughputRow(
  id: string,
  unit: string,
  /** null: a row reported for information, with no target. */
  minRatio: number | null,
  totals: AbTotals,
  details: Record<string, unknown> = {},
): ResultRow {
  const ratios = totals.pairRatios.map((r) => round(r, 3));
  const ratio = ratios.length > 0 ? round(median(totals.pairRatios), 3) : null;
  return {
    id,
    ours: round(totals.ours.perSecond, 1),
    baseline: round(totals.baseline.perSecond, 1),
    unit,
    ratio,
    ratioRounds: ratios,
    target: minRatio === null ? 'report' : `ratio >= ${minRatio}`,
    met: ratio === null || minRatio === null ? null : ratio >= minRatio,
    ...totals.ours.latencies.percentiles(),
    details: {
      ...details,
      order: 'ABBA (ours first in even pairs, baseline first in odd ones)',
      warmup: totals.warmup,
      oursRounds: totals.ours.roundRates,
      baselineRounds: totals.baseline.roundRates,
      baselineLatency: totals.baseline.latencies.percentiles(),
      oursOps: totals.ours.ops,
      baselineOps: totals.baseline.ops,
    },
  };
}

export function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
