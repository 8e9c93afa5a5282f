import { StatusLine } from '@cqrs/stack';

/**
 * The bench's progress line: which benchmark and round runs, how many operations it has done,
 * their rate, and the ETA of the whole run (from each benchmark's planned duration, corrected
 * by how long the finished ones really took). Redrawn in place on a TTY; on a pipe or in CI
 * a line every few seconds.
 */
export class Progress {
  private readonly line = new StatusLine(250, 5000);
  private readonly runStarted = Date.now();
  private benchIndex = -1;
  private benchStarted = Date.now();
  private phaseLabel = '';
  private phaseStarted = Date.now();
  private plannedDone = 0;

  constructor(
    /** Planned duration of each benchmark, in run order (ms). */
    private readonly planMs: readonly number[],
    private readonly names: readonly string[],
  ) {}

  startBenchmark(index: number): void {
    if (this.benchIndex >= 0) this.plannedDone += this.planMs[this.benchIndex] ?? 0;
    this.benchIndex = index;
    this.benchStarted = Date.now();
    this.phase('setup');
  }

  phase(label: string): void {
    this.phaseLabel = label;
    this.phaseStarted = Date.now();
    this.tick(0, true);
  }

  /** `count` operations done in the current phase. */
  tick(count: number, force = false): void {
    this.line.draw(() => {
      const now = Date.now();
      const secs = Math.max((now - this.phaseStarted) / 1000, 0.001);
      const name = this.names[this.benchIndex] ?? '';
      return (
        `[${this.benchIndex + 1}/${this.names.length}] ${name}: ${this.phaseLabel}` +
        (count > 0 ? `  ${count} ops  ${Math.round(count / secs)}/s` : '') +
        `  ETA ${formatSeconds(this.etaSeconds(now))}`
      );
    }, force);
  }

  /** Ends the line (before printing anything else on a TTY). */
  clear(): void {
    this.line.clear();
  }

  private etaSeconds(now: number): number {
    const current = this.planMs[this.benchIndex] ?? 0;
    const later = this.planMs.slice(this.benchIndex + 1).reduce((a, b) => a + b, 0);
    const inCurrent = Math.max(0, current - (now - this.benchStarted));
    // Scale the plan by how the run has gone so far (a loaded machine runs long).
    const elapsed = this.benchStarted - this.runStarted;
    const drift = this.plannedDone > 0 ? Math.max(0.5, Math.min(3, elapsed / this.plannedDone)) : 1;
    return ((inCurrent + later) * drift) / 1000;
  }
}

export function formatSeconds(s: number): string {
  const t = Math.max(0, Math.round(s));
  return t >= 60 ? `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s` : `${t}s`;
}
