import { AipoError } from '@aipo/core';
import type { CausalLM } from '../model/causal-lm';
import type { ModelConfig } from '../model/model-config';
import { createBatchScheduler } from './batch-scheduler';
import type { TokenLogProb } from './top-log-probs';

/** One sequence to continue. */
export interface GenerationRequest {
  /** token context to continue (prompt, or prompt + earlier output + inserted agent tokens) */
  context: readonly number[];
  /** at most this many new tokens (clamped to the model's positions) */
  maxTokens: number;
  /** softmax temperature (default 1; 0 = greedy) */
  temperature?: number | undefined;
  /** nucleus sampling mass (default 1 = off) */
  topP?: number | undefined;
  /** keep the k most likely tokens (default 0 = off) */
  topK?: number | undefined;
  /** stop once the generated text contains one of these (the stop text is kept in the output) */
  stop?: readonly string[] | undefined;
  /** stop after emitting one of these token ids (the token is kept) */
  stopTokenIds?: readonly number[] | undefined;
  /** PRNG seed: the same seed and context give the same tokens */
  seed?: number | undefined;
  /** also return the k most likely alternatives at each sampled position (OpenAI `top_logprobs`) */
  topLogProbs?: number | undefined;
  /**
   * called after every sampled token (streaming); `text` is the full decoded output so far and
   * `finishReason` is set on the token that ended the sequence
   */
  onToken?: ((event: { tokenId: number; logProb: number; text: string; finishReason?: 'stop' | 'length' }) => void) | undefined;
}

/** What one request produced. */
export interface GenerationResult {
  /** sampled token ids (stop token / stop-completing token included) */
  tokenIds: number[];
  /** log π(token) of each sampled token (model distribution at temperature 1) */
  logProbs: number[];
  /** decoded output */
  text: string;
  /** `stop`: a stop string or stop token ended it; `length`: maxTokens reached */
  finishReason: 'stop' | 'length';
  /** the stop string that matched, if any */
  stop?: string;
  /** context tokens whose keys/values were reused from a kept sequence (not run again) */
  cachedTokens: number;
  /** per sampled token, the `topLogProbs` most likely tokens (when requested) */
  topLogProbs?: TokenLogProb[][];
}

export interface GenerateOptions {
  /** the model */
  model: CausalLM;
  /** token ids → text (stop strings are matched on it) */
  decode: (tokenIds: number[]) => string;
  /** sequences to continue together in one batch */
  requests: readonly GenerationRequest[];
  /** abort: rejects with ABORTED */
  signal?: AbortSignal | undefined;
}

/**
 * Batched autoregressive sampling with a KV cache (decoding without one is ~20x slower on wasm,
 * tfjs-perf.md Q2). Runs the requests through a one-off continuous-batching scheduler (see
 * `createBatchScheduler`): every row has its own positions and preallocated keys/values, each
 * step reads back only the `[B, V]` logits of the rows, and sampling happens in JS. Requests are
 * validated up front, so a bad one fails the call before any work.
 */
export async function generate({ model, decode, requests, signal }: GenerateOptions): Promise<GenerationResult[]> {
  if (requests.length === 0) return [];
  requests.forEach((request, index) => validateGenerationRequest(request, model.config, index));
  if (signal?.aborted) throw new AipoError({ code: 'ABORTED', message: 'generation aborted', cause: signal.reason });
  const scheduler = createBatchScheduler({ model, decode, maxBatchSize: requests.length, keptSequences: 0 });
  try {
    return await Promise.all(requests.map((request) => scheduler.submit(request, signal)));
  } finally {
    scheduler.dispose();
  }
}

/** Throw INVALID_ARGUMENT if a request cannot run on this model. */
export function validateGenerationRequest(request: GenerationRequest, config: Pick<ModelConfig, 'vocabSize' | 'maxPositions'>, index = 0): void {
  const { vocabSize, maxPositions } = config;
  const invalid = (message: string) => new AipoError({ code: 'INVALID_ARGUMENT', message: `request ${index}: ${message}`, details: { index } });
  if (request.context.length === 0) throw invalid('context is empty (it needs at least one token)');
  if (request.context.length > maxPositions) throw invalid(`context has ${request.context.length} tokens, the model supports ${maxPositions}`);
  for (const id of request.context) if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw invalid(`token id ${id} is outside [0, ${vocabSize})`);
  if (!Number.isInteger(request.maxTokens) || request.maxTokens < 0) throw invalid(`maxTokens must be a non-negative integer (got ${request.maxTokens})`);
  const { temperature, topP, topK, topLogProbs } = request;
  if (temperature !== undefined && !(Number.isFinite(temperature) && temperature >= 0)) throw invalid(`temperature must be finite and ≥ 0 (got ${temperature})`);
  if (topP !== undefined && !(topP > 0 && topP <= 1)) throw invalid(`topP must be in (0, 1] (got ${topP})`);
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 0)) throw invalid(`topK must be a non-negative integer (got ${topK})`);
  if (topLogProbs !== undefined && !(Number.isInteger(topLogProbs) && topLogProbs >= 0)) throw invalid(`topLogProbs must be a non-negative integer (got ${topLogProbs})`);
}
