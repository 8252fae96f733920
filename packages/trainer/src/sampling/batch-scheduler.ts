import { AipoError } from '@aipo/core';
import type { CausalLM } from '../model/causal-lm';
import { generate, type GenerationRequest, type GenerationResult } from './generate';

export interface BatchScheduler {
  /** queue one request; requests queued while a batch runs are batched together next */
  submit(request: GenerationRequest, signal?: AbortSignal): Promise<GenerationResult>;
  /** counters: model batches run and requests served (batching is visible to tests and metrics) */
  stats(): { batches: number; requests: number };
}

export interface CreateBatchSchedulerOptions {
  /** the model */
  model: CausalLM;
  /** token ids → text */
  decode: (tokenIds: number[]) => string;
  /** most sequences per batch (default 32) */
  maxBatchSize?: number;
  /** when the model is idle, wait this long for more requests before starting (default 0) */
  batchWindowMs?: number;
}

interface Pending {
  request: GenerationRequest;
  resolve: (result: GenerationResult) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
}

/**
 * Batches concurrent generation calls (HTTP requests, parallel agent rollouts): everything queued
 * while the model is busy, or within the same event-loop turn, runs as one padded batch. One
 * model runs one batch at a time, which also serialises access to the tfjs engine.
 */
export function createBatchScheduler({ model, decode, maxBatchSize = 32, batchWindowMs = 0 }: CreateBatchSchedulerOptions): BatchScheduler {
  const queue: Pending[] = [];
  let running = false;
  let batches = 0;
  let requests = 0;

  const pump = async () => {
    if (running) return;
    running = true;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, maxBatchSize).filter((pending) => {
          if (!pending.signal?.aborted) return true;
          pending.reject(new AipoError({ code: 'ABORTED', message: 'generation aborted', cause: pending.signal.reason }));
          return false;
        });
        if (batch.length === 0) continue;
        batches += 1;
        requests += batch.length;
        try {
          // A request's own validation errors should fail only that request: check them one by one.
          const results = await generate({ model, decode, requests: batch.map((pending) => pending.request) });
          batch.forEach((pending, i) => {
            if (pending.signal?.aborted) pending.reject(new AipoError({ code: 'ABORTED', message: 'generation aborted', cause: pending.signal.reason }));
            else pending.resolve(results[i]!);
          });
        } catch (error) {
          if (batch.length === 1) batch[0]!.reject(error);
          else for (const pending of batch) await runAlone(pending);
        }
      }
    } finally {
      running = false;
    }
  };

  const runAlone = async (pending: Pending) => {
    try {
      const [result] = await generate({ model, decode, requests: [pending.request], signal: pending.signal });
      pending.resolve(result!);
    } catch (error) {
      pending.reject(error);
    }
  };

  return {
    submit(request, signal) {
      return new Promise<GenerationResult>((resolve, reject) => {
        queue.push({ request, resolve, reject, signal });
        if (batchWindowMs > 0) setTimeout(() => void pump(), batchWindowMs);
        else setImmediate(() => void pump());
      });
    },
    stats: () => ({ batches, requests }),
  };
}
