/**
 * One status line on stderr: redrawn in place on a TTY (at most every `ttyEveryMs`), printed
 * as a new line every `logEveryMs` otherwise, so CI logs stay readable. The local stack's
 * download, the demo seeder and the benchmarks all draw their progress with it.
 */
export class StatusLine {
  private lastPrint = 0;
  private readonly tty = process.stderr.isTTY === true;

  constructor(
    private readonly ttyEveryMs = 200,
    private readonly logEveryMs = 3000,
  ) {}

  /** Draws `line()` unless one was drawn too recently (`force` draws anyway). */
  draw(line: () => string, force = false): void {
    const now = Date.now();
    if (!force && now - this.lastPrint < (this.tty ? this.ttyEveryMs : this.logEveryMs)) return;
    this.lastPrint = now;
    if (this.tty) process.stderr.write(`\r\x1b[K${line()}`);
    else process.stderr.write(`${line()}\n`);
  }

  /** Ends the line on a TTY (before anything else is printed). */
  end(): void {
    if (this.tty) process.stderr.write('\n');
  }

  /** Erases the line on a TTY. */
  clear(): void {
    if (this.tty) process.stderr.write('\r\x1b[K');
  }
}

/**
 * Count, rate and - when the total is known - percentage and ETA. A total that is unknown,
 * zero or already exceeded (a size announced for another file) shows no percentage.
 */
export class ProgressLine {
  private readonly started = Date.now();
  private readonly line = new StatusLine();

  constructor(
    private readonly label: string,
    private total: number | undefined,
    private readonly unit = '',
    private readonly format: (n: number) => string = (n) => String(Math.round(n)),
  ) {}

  setTotal(total: number): void {
    this.total = total;
  }

  update(done: number, force = false): void {
    this.line.draw(() => this.describe(done), force);
  }

  done(done: number): void {
    this.update(done, true);
    this.line.end();
  }

  private describe(done: number): string {
    const secs = Math.max((Date.now() - this.started) / 1000, 0.001);
    const rate = done / secs;
    const total = this.total !== undefined && this.total > 0 && done <= this.total ? this.total : 0;
    const parts = [
      `${this.label}: ${this.format(done)}${total ? `/${this.format(total)}` : ''}${this.unit}`,
    ];
    if (total) parts.push(`${((100 * done) / total).toFixed(0)}%`);
    parts.push(`${this.format(rate)}${this.unit}/s`);
    if (total && rate > 0) parts.push(`ETA ${Math.max(0, Math.ceil((total - done) / rate))}s`);
    return parts.join('  ');
  }
}
