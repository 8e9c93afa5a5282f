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
    // An idle mailbox (the usual case: one command per aggregate at a time) starts the task
    // now rather than a tick later behind a settled tail.
    const result = this.pending++ === 0 ? start(task) : this.tail.then(task);
    // The next task waits for this one to settle, whatever its outcome; `size` drops first.
    this.tail = result.then(
      () => this.pending--,
      () => this.pending--,
    );
    return result;
  }

  /** Resolves when every task queued so far has settled. */
  async idle(): Promise<void> {
    await this.tail;
  }
}

function start<T>(task: () => Promise<T>): Promise<T> {
  try {
    return task();
  } catch (error) {
    return Promise.reject(error);
  }
}
