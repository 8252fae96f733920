import { AipoError } from '@aipo/core';
import type { ChatModel } from './chat-model';

/** A FIFO semaphore. */
export interface ConcurrencyLimiter {
  /** run `task` once a slot is free; a queued task whose signal aborts is dropped with ABORTED */
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** tasks running now */
  readonly active: number;
  /** tasks waiting */
  readonly pending: number;
}

export function createConcurrencyLimiter(limit: number): ConcurrencyLimiter {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `concurrency limit must be a positive integer (got ${limit})`,
    });
  }
  let active = 0;
  const queue: Array<() => void> = [];
  const release = () => {
    active -= 1;
    queue.shift()?.();
  };
  return {
    get active() {
      return active;
    },
    get pending() {
      return queue.length;
    },
    async run(task, signal) {
      if (active >= limit) {
        await new Promise<void>((resolve, reject) => {
          const start = () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          };
          const onAbort = () => {
            const index = queue.indexOf(start);
            if (index >= 0) queue.splice(index, 1);
            reject(
              new AipoError({
                code: 'ABORTED',
                message: 'aborted while waiting for a free slot',
                cause: signal?.reason,
              }),
            );
          };
          if (signal?.aborted) return onAbort();
          signal?.addEventListener('abort', onAbort, { once: true });
          queue.push(start);
        });
      }
      active += 1;
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}

/**
 * One limiter per endpoint, shared by every model that talks to it: two agents on the same vLLM
 * server share its slots (ecosystem.md §4 recommends our own semaphore per endpoint).
 */
export interface EndpointLimits {
  /** wrap a model so its calls take a slot of its endpoint's limiter */
  wrap(model: ChatModel): ChatModel;
  /** the limiter of an endpoint (created on first use) */
  limiterFor(endpoint: string): ConcurrencyLimiter;
}

export function createEndpointLimits(options: {
  defaultLimit: number;
  limits?: Record<string, number>;
}): EndpointLimits {
  const limiters = new Map<string, ConcurrencyLimiter>();
  const limiterFor = (endpoint: string) => {
    let limiter = limiters.get(endpoint);
    if (!limiter) {
      limiter = createConcurrencyLimiter(options.limits?.[endpoint] ?? options.defaultLimit);
      limiters.set(endpoint, limiter);
    }
    return limiter;
  };
  return {
    limiterFor,
    wrap(model) {
      const limiter = limiterFor(model.endpoint);
      return {
        specificationVersion: 'v1',
        modelId: model.modelId,
        endpoint: model.endpoint,
        generate: (messages, generateOptions, signal) =>
          limiter.run(() => model.generate(messages, generateOptions, signal), signal),
      };
    },
  };
}
