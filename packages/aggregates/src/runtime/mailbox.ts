/**
 * Runs tasks one at a time, in arrival order: the per-aggregate mailbox that keeps two
 * decisions on one aggregate from interleaving inside a process.
 */
export class Mailbox {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  /** Tasks queued or running. */
  get size(): number {
    return this.pending;
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.tail.then(task).finally(() => {
      this.pending--;
    });
    // The next task waits for this one to settle, whatever its outcome.
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves when every task queued so far has settled. */
  async idle(): Promise<void> {
    await this.tail;
  }
}
