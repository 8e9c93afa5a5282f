/**
 * A single progress line with count, rate and ETA, redrawn in place on a TTY and printed
 * every few seconds otherwise (so CI logs stay readable).
 */
export class ProgressLine {
  private readonly started = Date.now();
  private lastPrint = 0;
  private readonly tty = process.stderr.isTTY === true;

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
    const now = Date.now();
    if (!force && now - this.lastPrint < (this.tty ? 200 : 3000)) return;
    this.lastPrint = now;
    const secs = Math.max((now - this.started) / 1000, 0.001);
    const rate = done / secs;
    const parts = [
      `${this.label}: ${this.format(done)}${this.total ? `/${this.format(this.total)}` : ''}${this.unit}`,
    ];
    if (this.total) parts.push(`${((100 * done) / this.total).toFixed(0)}%`);
    parts.push(`${this.format(rate)}${this.unit}/s`);
    if (this.total && rate > 0)
      parts.push(`ETA ${Math.max(0, Math.ceil((this.total - done) / rate))}s`);
    const line = parts.join('  ');
    if (this.tty) process.stderr.write(`\r\x1b[K${line}`);
    else process.stderr.write(`${line}\n`);
  }

  done(done: number): void {
    this.update(done, true);
    if (this.tty) process.stderr.write('\n');
  }
}
