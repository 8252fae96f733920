import { AipoError } from '@aipo/core';

export interface AdaptiveLimiterOptions {
  /** the ceiling and starting concurrency */
  maxConcurrency: number;
  /** successes in a row before the limit grows by one again (default 8) */
  increaseAfter?: number;
}

/**
 * A semaphore whose limit follows AIMD (promptfoo's scheduler, TCP congestion control): halve on
 * a 429, add one after a run of successes. A server hint (`Retry-After`) pauses every new request
 * until it has passed, not only the one that was refused.
 */
export class AdaptiveLimiter {
  private active = 0;
  private successes = 0;
  private pausedUntil = 0;
  private readonly waiters: Array<() => void> = [];
  private readonly max: number;
  private readonly increaseAfter: number;
  /** the current limit */
  limit: number;

  constructor({ maxConcurrency, increaseAfter = 8 }: AdaptiveLimiterOptions) {
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) {
      throw new AipoError({ code: 'INVALID_ARGUMENT', message: `concurrency must be an integer >= 1, got ${maxConcurrency}` });
    }
    this.max = maxConcurrency;
    this.limit = maxConcurrency;
    this.increaseAfter = increaseAfter;
  }

  /** Wait for a slot (and for any server-requested pause); rejects with ABORTED on the signal. */
  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const pause = this.pausedUntil - Date.now();
      if (pause > 0) await sleep(pause, signal);
      else if (this.active < this.limit) {
        this.active++;
        return;
      } else await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  release(): void {
    this.active--;
    this.wake();
  }

  onSuccess(): void {
    if (++this.successes >= this.increaseAfter && this.limit < this.max) {
      this.limit++;
      this.successes = 0;
      this.wake();
    }
  }

  onRateLimited(waitMs: number): void {
    this.successes = 0;
    this.limit = Math.max(1, Math.floor(this.limit / 2));
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + waitMs);
  }

  /** Wake one waiter; it re-checks the limit and the pause itself. */
  private wake(): void {
    this.waiters.shift()?.();
  }
}

/** setTimeout as a promise that rejects with the signal's reason on abort. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
