import { AipoError } from '@aipo/core';
import { JsWorker } from './js-worker';

/**
 * Up to `size` worker processes, one job at a time each. A worker that crashed, was killed at a
 * deadline, or served `maxJobsPerWorker` jobs is replaced; the host never shares its heap with one.
 */
export class JsWorkerPool {
  private readonly idle: JsWorker[] = [];
  private readonly waiters: Array<(worker: JsWorker) => void> = [];
  private live = 0;
  private closed = false;
  private readonly all = new Set<JsWorker>();

  constructor(
    private readonly size: number,
    private readonly maxJobsPerWorker: number,
  ) {
    if (!Number.isInteger(size) || size < 1) {
      throw new AipoError({ code: 'INVALID_CONFIG', message: `poolSize must be a positive integer, got ${size}` });
    }
  }

  async acquire(): Promise<JsWorker> {
    if (this.closed) throw new AipoError({ code: 'SANDBOX_UNAVAILABLE', message: 'the JS grader was closed' });
    const worker = this.idle.pop();
    if (worker) return worker;
    if (this.live < this.size) {
      this.live += 1;
      try {
        const started = await JsWorker.start();
        this.all.add(started);
        return started;
      } catch (error) {
        this.live -= 1;
        throw error;
      }
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** `healthy: false` (any failed run) retires the worker: a disposed-after-timeout isolate can leave V8 broken. */
  release(worker: JsWorker, { healthy }: { healthy: boolean }): void {
    if (!healthy || !worker.alive || worker.jobs >= this.maxJobsPerWorker || this.closed) {
      worker.kill();
      this.all.delete(worker);
      this.live -= 1;
      const waiter = this.waiters.shift();
      if (waiter) void this.acquire().then(waiter, () => undefined);
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) waiter(worker);
    else this.idle.push(worker);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const worker of this.all) worker.kill();
    this.all.clear();
    this.idle.length = 0;
  }
}
