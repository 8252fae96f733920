/**
 * A FIFO with a capacity: `push` waits while it is full, so a fast producer (sampling) cannot
 * run ahead of a slow consumer (grading) and memory stays flat however many samples a run has.
 */
export class BoundedQueue<T> {
  private readonly items: T[] = [];
  private readonly pushWaiters: Array<() => void> = [];
  private readonly popWaiters: Array<(value: IteratorResult<T>) => void> = [];
  private closed = false;

  constructor(private readonly capacity: number) {}

  /** Add an item, waiting while the queue is full; returns false (dropping it) once closed. */
  async push(item: T): Promise<boolean> {
    while (!this.closed && this.items.length >= this.capacity && this.popWaiters.length === 0) {
      await new Promise<void>((resolve) => this.pushWaiters.push(resolve));
    }
    if (this.closed) return false;
    const waiter = this.popWaiters.shift();
    if (waiter) waiter({ value: item, done: false });
    else this.items.push(item);
    return true;
  }

  /** No more pushes; consumers drain what is left and stop. */
  close(): void {
    this.closed = true;
    for (const waiter of this.popWaiters.splice(0)) waiter({ value: undefined, done: true });
    for (const waiter of this.pushWaiters.splice(0)) waiter();
  }

  pop(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) {
      this.pushWaiters.shift()?.();
      return Promise.resolve({ value: item, done: false });
    }
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.popWaiters.push(resolve));
  }
}
