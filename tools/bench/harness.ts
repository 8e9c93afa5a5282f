import type { Progress } from './progress';

/** One row of `bench-results/latest.json` (the shape the issue asks for, plus notes). */
export interface ResultRow {
  readonly id: string;
  /** Our path's figure; null when the row could not be measured (see `note`). */
  readonly ours: number | null;
  /** The raw baseline's figure in the same run; null where the row has none. */
  readonly baseline: number | null;
  readonly unit: string;
  /** ours / baseline (throughput rows); null without a baseline. */
  readonly ratio: number | null;
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
 * `concurrency` workers, each running `op` back to back until the deadline (closed loop:
 * a new operation starts when the previous one of that worker ends).
 */
export async function closedLoop(opts: ClosedLoopOptions): Promise<LoopResult> {
  const latencies = new Latencies();
  const started = performance.now();
  const deadline = started + opts.durationMs;
  let ops = 0;
  let failure: unknown;
  const ticker = setInterval(() => opts.onProgress?.(ops), 250);
  const worker = async (w: number) => {
    while (failure === undefined && performance.now() < deadline) {
      const t0 = performance.now();
      try {
        await opts.op(w);
      } catch (err) {
        failure ??= err;
        return;
      }
      latencies.add(performance.now() - t0);
      ops++;
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, (_, w) => worker(w)));
  } finally {
    clearInterval(ticker);
  }
  if (failure !== undefined) throw failure;
  return { ops, elapsedMs: performance.now() - started, latencies };
}

/** What A/B rounds add up to for one side. */
export interface SideTotals {
  readonly ops: number;
  readonly elapsedMs: number;
  readonly perSecond: number;
  readonly latencies: Latencies;
  /** Rate of each round, to show the spread. */
  readonly roundRates: number[];
}

export interface AbOptions {
  readonly label: string;
  readonly rounds: number;
  readonly progress: Progress;
  /** Our path, one round. */
  readonly ours: (round: number) => Promise<LoopResult>;
  /** The raw baseline, one round. */
  readonly baseline: (round: number) => Promise<LoopResult>;
}

/**
 * Alternates our path and its baseline, A B A B ..., so slow drift of a shared machine
 * (other processes, buffer pool, disk) falls on both sides alike.
 */
export async function abRounds(
  opts: AbOptions,
): Promise<{ ours: SideTotals; baseline: SideTotals }> {
  const sides = { ours: emptySide(), baseline: emptySide() };
  for (let r = 0; r < opts.rounds; r++) {
    for (const side of ['ours', 'baseline'] as const) {
      opts.progress.phase(`${opts.label} ${side} round ${r + 1}/${opts.rounds}`);
      const res = await opts[side](r);
      const s = sides[side];
      s.ops += res.ops;
      s.elapsedMs += res.elapsedMs;
      s.latencies.addAll(res.latencies);
      s.roundRates.push(round((res.ops * 1000) / res.elapsedMs, 1));
    }
  }
  const totals = (s: ReturnType<typeof emptySide>): SideTotals => ({
    ...s,
    perSecond: s.elapsedMs > 0 ? (s.ops * 1000) / s.elapsedMs : 0,
  });
  return { ours: totals(sides.ours), baseline: totals(sides.baseline) };
}

function emptySide() {
  return { ops: 0, elapsedMs: 0, latencies: new Latencies(), roundRates: [] as number[] };
}

/** A throughput row from A/B totals: ratio = ours / baseline, met when ratio >= min. */
export function throughputRow(
  id: string,
  unit: string,
  minRatio: number,
  totals: { ours: SideTotals; baseline: SideTotals },
  details: Record<string, unknown> = {},
): ResultRow {
  const ours = round(totals.ours.perSecond, 1);
  const baseline = round(totals.baseline.perSecond, 1);
  const ratio = baseline > 0 ? round(ours / baseline, 3) : null;
  return {
    id,
    ours,
    baseline,
    unit,
    ratio,
    target: `ratio >= ${minRatio}`,
    met: ratio === null ? null : ratio >= minRatio,
    ...totals.ours.latencies.percentiles(),
    details: {
      ...details,
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
