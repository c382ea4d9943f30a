/**
 * A serial task queue: one tenant document's changes, stores and replies run one at a time, in
 * order, so that the document in memory always equals what was stored when a task starts.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve()
  private pending = 0

  /** Runs `task` after every task queued before it; its error reaches only its own caller. */
  run<T>(task: () => Promise<T> | T): Promise<T> {
    this.pending++
    const result = this.tail.then(task)
    this.tail = result.then(
      () => this.pending--,
      () => this.pending--,
    )
    return result
  }

  get size(): number {
    return this.pending
  }

  /** Resolves when everything queued so far has finished. */
  idle(): Promise<void> {
    return this.run(() => undefined)
  }
}
