import { AipoError } from '@aipo/core';
import type { CausalLM } from '../model/causal-lm';
import { decodeForward, type DecodeEntry } from '../model/decode-forward';
import { commonPrefixLength, type DecodeSlot } from '../model/decode-kv-cache';
import type { DecodeWeights } from '../model/decode-weights';
import { createRng, type SeededRng } from '../random/seeded-rng';
import { validateGenerationRequest, type GenerationRequest, type GenerationResult } from './generate';
import { sampleToken } from './sample-token';
import { SequenceState } from './sequence-state';
import { sharedDecodeState } from './shared-decode-state';
import { topLogProbs } from './top-log-probs';

/** Counters of a scheduler (batching and cache reuse are visible to tests and metrics). */
export interface BatchSchedulerStats {
  /** busy periods: runs of the decode loop from idle to idle */
  batches: number;
  /** requests admitted */
  requests: number;
  /** decode steps (one forward pass over every running sequence) */
  steps: number;
  /** most sequences in one step */
  maxConcurrent: number;
  /** requests that joined while other sequences were mid-generation (continuous batching) */
  joinedRunning: number;
  /** context tokens whose keys/values came from a kept sequence instead of a forward pass */
  cachedTokens: number;
  /**
   * context tokens whose keys/values were copied from an identical prompt admitted in the same
   * step (prefix sharing: the n samples of one prompt run its prefill once)
   */
  sharedTokens: number;
}

export interface BatchScheduler {
  /** queue one request; it joins the running batch at the next step boundary */
  submit(request: GenerationRequest, signal?: AbortSignal): Promise<GenerationResult>;
  /** counters */
  stats(): BatchSchedulerStats;
  /** free the kept caches (pending requests are rejected with ABORTED); the decode weights stay with the model (sharedDecodeState) */
  dispose(): void;
}

export interface CreateBatchSchedulerOptions {
  /** the model */
  model: CausalLM;
  /** token ids → text */
  decode: (tokenIds: number[]) => string;
  /** most sequences per step (default 32) */
  maxBatchSize?: number;
  /** when the model is idle, wait this long for more requests before the first step (default 0) */
  batchWindowMs?: number;
  /**
   * finished sequences whose keys/values are kept for a continuation (default 16): a request whose
   * context extends a kept sequence (an agent resuming after inserting tokens) runs only the new
   * tokens. 0 disables the cache.
   */
  keptSequences?: number;
  /**
   * most bytes of KV cache kept for finished sequences (default 256 MiB); the least recently used
   * go first. The cache lives in a wasm memory capped at 4 GiB, next to the weights on wasm.
   */
  keptBytes?: number;
}

interface Pending {
  request: GenerationRequest;
  resolve: (result: GenerationResult) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
}

interface Row {
  pending: Pending;
  state: SequenceState;
  slot: DecodeSlot;
  rng: SeededRng;
  /** tokens to run next, starting at position `slot.tokens.length` */
  feed: number[];
  cachedTokens: number;
  /**
   * a row with the same context admitted in the same step: this row runs nothing until that row's
   * prefill, then copies its keys/values and samples from its last logits (prefix sharing)
   */
  leader: Row | undefined;
}

const aborted = (signal: AbortSignal) => new AipoError({ code: 'ABORTED', message: 'generation aborted', cause: signal.reason });

/**
 * Continuous batching (Yu et al. 2022, Orca's iteration-level scheduling; vLLM): every step runs
 * one token of each running sequence, and a new request's context (its prefill) joins the same
 * step, so requests join at step boundaries and leave as soon as they finish instead of waiting
 * for a batch. Each sequence owns preallocated KV storage; when it finishes the storage is kept
 * (LRU), and a later request whose context starts with that sequence resumes from it. Requests
 * with the same context admitted together (the n samples of one prompt, a GRPO group) run the
 * prompt once: the others copy its keys/values and sample their first token from its logits, as
 * vLLM's prefix caching shares blocks. Sequences are computed row-independently, so a result does
 * not depend on what else ran with it.
 */
export function createBatchScheduler({ model, decode, maxBatchSize = 32, batchWindowMs = 0, keptSequences = 16, keptBytes = 256 * 2 ** 20 }: CreateBatchSchedulerOptions): BatchScheduler {
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `maxBatchSize must be a positive integer (got ${maxBatchSize})` });
  }
  const shared = sharedDecodeState(model);
  const cache = shared.cache;
  const waiting: Pending[] = [];
  const active: Row[] = [];
  /** finished sequences, least recently used first */
  const kept: DecodeSlot[] = [];
  const counters: BatchSchedulerStats = { batches: 0, requests: 0, steps: 0, maxConcurrent: 0, joinedRunning: 0, cachedTokens: 0, sharedTokens: 0 };
  let weights: DecodeWeights | undefined;
  /** the step's logits (reused: one array per step would be garbage at every token) */
  let logitsBuffer = new Float32Array(0);
  let running = false;
  let disposed = false;

  const keep = (slot: DecodeSlot) => {
    if (keptSequences <= 0 || cache.bytesOf(slot) > keptBytes) return cache.release(slot);
    kept.push(slot);
    let bytes = kept.reduce((sum, each) => sum + cache.bytesOf(each), 0);
    while (kept.length > keptSequences || bytes > keptBytes) {
      const oldest = kept.shift()!;
      bytes -= cache.bytesOf(oldest);
      cache.release(oldest);
    }
  };
  const forgetKept = () => {
    for (const slot of kept.splice(0)) cache.release(slot);
  };

  /** A slot for this context: the kept sequence sharing the longest prefix, else a fresh one. */
  const slotFor = (context: readonly number[]): { slot: DecodeSlot; reused: number } => {
    let best = -1;
    let bestLength = 0;
    for (const [index, slot] of kept.entries()) {
      const length = commonPrefixLength(slot.tokens, context);
      if (length > bestLength) {
        best = index;
        bestLength = length;
      }
    }
    if (best === -1) return { slot: cache.createSlot(context.length + 16), reused: 0 };
    const [slot] = kept.splice(best, 1);
    // The last context token always runs again: its logits give the first new token.
    const reused = Math.min(bestLength, context.length - 1);
    cache.truncate(slot!, reused);
    return { slot: slot!, reused };
  };

  const admit = () => {
    const midGeneration = active.length > 0;
    /** the first row of each context admitted now (keyed by its token ids) */
    const leaders = new Map<string, Row>();
    while (waiting.length > 0 && active.length < maxBatchSize) {
      const pending = waiting.shift()!;
      if (pending.signal?.aborted) {
        pending.reject(aborted(pending.signal));
        continue;
      }
      try {
        validateGenerationRequest(pending.request, model.config);
      } catch (error) {
        pending.reject(error);
        continue;
      }
      counters.requests += 1;
      if (midGeneration) counters.joinedRunning += 1;
      const state = new SequenceState(pending.request, decode, model.config.maxPositions);
      if (state.done) {
        pending.resolve(state.result(0));
        continue;
      }
      const { context } = pending.request;
      const rng = createRng({ seed: pending.request.seed ?? Math.floor(Math.random() * 2 ** 32) });
      const key = context.join(',');
      const leader = leaders.get(key);
      let placed: { slot: DecodeSlot; reused: number };
      try {
        // a follower's slot is fresh: the kept sequence, if any, goes to its leader
        placed = leader !== undefined ? { slot: cache.createSlot(context.length + 16), reused: 0 } : slotFor(context);
      } catch (error) {
        // the decode memory is full (its typed error): this request fails, the running ones go on
        pending.reject(error);
        continue;
      }
      if (leader !== undefined) {
        active.push({ pending, state, slot: placed.slot, rng, feed: [], cachedTokens: leader.cachedTokens, leader });
        continue;
      }
      const { slot, reused } = placed;
      counters.cachedTokens += reused;
      const row: Row = { pending, state, slot, rng, feed: context.slice(reused), cachedTokens: reused, leader: undefined };
      leaders.set(key, row);
      active.push(row);
    }
  };

  const currentWeights = async (): Promise<DecodeWeights> => {
    if (weights?.isCurrent() === true) return weights;
    const current = await shared.currentWeights();
    if (disposed) throw new AipoError({ code: 'ABORTED', message: 'the scheduler was disposed' });
    // Kept keys/values were computed with the old weights.
    if (weights !== undefined && current !== weights) forgetKept();
    weights = current;
    return current;
  };

  const step = async (current: DecodeWeights) => {
    for (let i = active.length - 1; i >= 0; i--) {
      const row = active[i]!;
      if (row.pending.signal?.aborted) {
        active.splice(i, 1);
        keep(row.slot);
        row.pending.reject(aborted(row.pending.signal));
      }
    }
    if (active.length === 0) return;
    const entries: DecodeEntry[] = [];
    /** each row's index in the step's logits (a follower reads its leader's) */
    const logitsRow = new Map<Row, number>();
    for (const row of active) {
      if (row.leader !== undefined) continue;
      const start = row.slot.tokens.length;
      row.feed.forEach((token, i) => entries.push({ slot: row.slot, position: start + i, token, logits: i === row.feed.length - 1 }));
      logitsRow.set(row, logitsRow.size);
    }
    // A follower is admitted with its leader, right before this step (admit and step run in one
    // synchronous stretch, so nothing can remove the leader in between).
    for (const row of active) {
      if (row.leader === undefined) continue;
      const index = logitsRow.get(row.leader);
      if (index === undefined) throw new AipoError({ code: 'INTERNAL', message: 'a shared-prompt row lost the row that runs its prompt' });
      logitsRow.set(row, index);
    }
    counters.steps += 1;
    counters.maxConcurrent = Math.max(counters.maxConcurrent, active.length);
    const V = model.config.vocabSize;
    if (logitsBuffer.length < active.length * V) logitsBuffer = new Float32Array(active.length * V);
    const logits = decodeForward({ weights: current, cache, entries, out: logitsBuffer });
    if (disposed) return;
    const finished: Array<{ row: Row; error?: unknown }> = [];
    for (const row of active) {
      if (row.leader === undefined) continue;
      // the leader's slot now holds the whole context: same keys/values as running it here
      const { length } = row.pending.request.context;
      cache.copyPrefix({ from: row.leader.slot, to: row.slot, length });
      counters.sharedTokens += length;
      row.leader = undefined;
    }
    active.forEach((row) => {
      const index = logitsRow.get(row)!;
      const values = logits.subarray(index * V, (index + 1) * V);
      const { request } = row.pending;
      const { tokenId, logProb } = sampleToken({ logits: values, temperature: request.temperature ?? 1, topK: request.topK, topP: request.topP, rng: row.rng });
      const k = request.topLogProbs ?? 0;
      try {
        // runs the caller's onToken (a stream write): its failure ends only its own request
        row.state.accept(tokenId, logProb, k > 0 ? topLogProbs(values, k) : undefined);
      } catch (error) {
        finished.push({ row, error });
        return;
      }
      row.feed = [tokenId];
      if (row.state.done) finished.push({ row });
    });
    for (const { row, error } of finished) {
      active.splice(active.indexOf(row), 1);
      keep(row.slot);
      if (error === undefined) row.pending.resolve(row.state.result(row.cachedTokens));
      else row.pending.reject(error);
    }
  };

  const loop = async () => {
    if (running || disposed) return;
    running = true;
    counters.batches += 1;
    try {
      while (!disposed) {
        let current: DecodeWeights;
        try {
          // before admitting: a weight update must invalidate kept caches before one is picked
          current = await currentWeights();
        } catch (error) {
          for (const pending of waiting.splice(0)) pending.reject(error);
          for (const row of active.splice(0)) {
            cache.release(row.slot);
            row.pending.reject(error);
          }
          break;
        }
        admit();
        if (active.length === 0) break;
        try {
          await step(current);
        } catch (error) {
          // A failed forward pass fails the sequences in it, not later requests.
          for (const row of active.splice(0)) {
            cache.release(row.slot);
            row.pending.reject(error);
          }
        }
        // Step boundary: let new requests (HTTP handlers) arrive and join.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      running = false;
    }
    if (waiting.length > 0) void loop();
  };

  return {
    submit(request, signal) {
      return new Promise<GenerationResult>((resolve, reject) => {
        if (disposed) {
          reject(new AipoError({ code: 'ABORTED', message: 'the scheduler was disposed' }));
          return;
        }
        waiting.push({ request, resolve, reject, signal });
        if (running) return;
        if (batchWindowMs > 0) setTimeout(() => void loop(), batchWindowMs);
        else setImmediate(() => void loop());
      });
    },
    stats: () => ({ ...counters }),
    dispose() {
      if (disposed) return;
      disposed = true;
      const error = new AipoError({ code: 'ABORTED', message: 'the scheduler was disposed' });
      for (const pending of waiting.splice(0)) pending.reject(error);
      for (const row of active.splice(0)) {
        cache.release(row.slot);
        row.pending.reject(error);
      }
      forgetKept();
      // the weights stay with the model for the next scheduler (sharedDecodeState)
      weights = undefined;
    },
  };
}
