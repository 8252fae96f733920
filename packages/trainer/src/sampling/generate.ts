import * as tf from '@tensorflow/tfjs';
import { AipoError } from '@aipo/core';
import type { CausalLM, KvCache } from '../model/causal-lm';
import { buildAttentionMask } from '../model/attention-mask';
import { createRng } from '../random/seeded-rng';
import { sampleToken } from './sample-token';

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

interface RowState {
  tokenIds: number[];
  logProbs: number[];
  text: string;
  done: boolean;
  finishReason: 'stop' | 'length';
  stop?: string;
  limit: number;
}

/**
 * Batched autoregressive sampling with a KV cache (decoding without one is ~20x slower on wasm,
 * tfjs-perf.md Q2). Rows are left-padded; positions and the key mask are per row, so prompts of any
 * length share a batch. Each step samples in JS from the last logits, so only `[B, V]` is read back.
 */
export async function generate({ model, decode, requests, signal }: GenerateOptions): Promise<GenerationResult[]> {
  const B = requests.length;
  if (B === 0) return [];
  const maxPositions = model.config.maxPositions;
  const V = model.config.vocabSize;
  const rows: RowState[] = requests.map((request, b) => {
    validate(request, b, V, maxPositions);
    const limit = Math.min(request.maxTokens, maxPositions - request.context.length);
    return { tokenIds: [], logProbs: [], text: '', done: limit <= 0, finishReason: 'length', limit };
  });
  const rngs = requests.map((request) => createRng({ seed: request.seed ?? Math.floor(Math.random() * 2 ** 32) }));
  const P = Math.max(...requests.map((request) => request.context.length));
  const pads = requests.map((request) => P - request.context.length);
  const tokens = new Int32Array(B * P);
  const positions = new Int32Array(B * P);
  let keyValid = new Uint8Array(B * P);
  for (let b = 0; b < B; b++) {
    const context = requests[b]!.context;
    for (let i = 0; i < P; i++) {
      const real = i >= pads[b]!;
      tokens[b * P + i] = real ? context[i - pads[b]!]! : 0;
      positions[b * P + i] = real ? i - pads[b]! : 0;
      keyValid[b * P + i] = real ? 1 : 0;
    }
  }
  let cache: KvCache | undefined;
  let keyLength = P;
  let input = { tokens, positions, length: P };
  const stopTexts = requests.map((request) => request.stop?.filter((s) => s.length > 0) ?? []);
  const stopIds = requests.map((request) => new Set(request.stopTokenIds ?? []));
  try {
    for (let step = 0; rows.some((row) => !row.done); step++) {
      if (signal?.aborted) throw new AipoError({ code: 'ABORTED', message: 'generation aborted', cause: signal.reason });
      const previous = cache;
      // tidy returns flat tensors: [last logits, k0, v0, k1, v1, ...] (the cache outlives the step).
      const [logits, ...kv] = tf.tidy(() => {
        const out = model.forward({
          tokens: tf.tensor2d(input.tokens, [B, input.length], 'int32'),
          positions: tf.tensor2d(input.positions, [B, input.length], 'int32'),
          mask: buildAttentionMask({ batchSize: B, queryLength: input.length, keyLength, keyValid }),
          ...(previous === undefined ? {} : { cache: previous }),
          inference: true,
        });
        const last = tf.slice(out.logits, [0, input.length - 1, 0], [B, 1, V]).reshape([B, V]);
        return [last, ...out.cache.flatMap((layer) => [layer.k, layer.v])];
      }) as [tf.Tensor, ...tf.Tensor4D[]];
      const next: KvCache = [];
      for (let i = 0; i < kv.length; i += 2) next.push({ k: kv[i]!, v: kv[i + 1]! });
      if (previous !== undefined) disposeCache(previous);
      cache = next;
      const values = (await logits.data()) as Float32Array;
      logits.dispose();
      const nextTokens = new Int32Array(B);
      const nextPositions = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        const row = rows[b]!;
        const request = requests[b]!;
        nextPositions[b] = request.context.length + step;
        if (row.done) continue;
        const { tokenId, logProb } = sampleToken({
          logits: values.subarray(b * V, (b + 1) * V),
          temperature: request.temperature ?? 1,
          topK: request.topK,
          topP: request.topP,
          rng: rngs[b]!,
        });
        row.tokenIds.push(tokenId);
        row.logProbs.push(logProb);
        const previousText = row.text;
        row.text = decode(row.tokenIds);
        nextTokens[b] = tokenId;
        if (stopIds[b]!.has(tokenId)) {
          row.done = true;
          row.finishReason = 'stop';
        } else {
          // Search only where a new match can start: a stop string may straddle the previous text.
          const from = (s: string) => Math.max(0, previousText.length - s.length + 1);
          const matched = stopTexts[b]!.filter((s) => row.text.indexOf(s, from(s)) !== -1).sort((x, y) => row.text.indexOf(x, from(x)) - row.text.indexOf(y, from(y)))[0];
          if (matched !== undefined) {
            row.done = true;
            row.finishReason = 'stop';
            row.stop = matched;
          } else if (row.tokenIds.length >= row.limit) {
            row.done = true;
          }
        }
        request.onToken?.({ tokenId, logProb, text: row.text, ...(row.done ? { finishReason: row.finishReason } : {}) });
      }
      const grown = new Uint8Array(B * (keyLength + 1));
      for (let b = 0; b < B; b++) {
        grown.set(keyValid.subarray(b * keyLength, (b + 1) * keyLength), b * (keyLength + 1));
        grown[b * (keyLength + 1) + keyLength] = 1;
      }
      keyValid = grown;
      keyLength += 1;
      input = { tokens: nextTokens, positions: nextPositions, length: 1 };
      if (keyLength > maxPositions + P) break;
    }
  } finally {
    if (cache !== undefined) disposeCache(cache);
  }
  return rows.map((row) => ({
    tokenIds: row.tokenIds,
    logProbs: row.logProbs,
    text: row.text,
    finishReason: row.finishReason,
    ...(row.stop === undefined ? {} : { stop: row.stop }),
  }));
}

function disposeCache(cache: KvCache): void {
  for (const layer of cache) {
    layer.k.dispose();
    layer.v.dispose();
  }
}

function validate(request: GenerationRequest, index: number, vocabSize: number, maxPositions: number): void {
  const invalid = (message: string) => new AipoError({ code: 'INVALID_ARGUMENT', message: `request ${index}: ${message}`, details: { index } });
  if (request.context.length === 0) throw invalid('context is empty (it needs at least one token)');
  if (request.context.length > maxPositions) throw invalid(`context has ${request.context.length} tokens, the model supports ${maxPositions}`);
  for (const id of request.context) if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw invalid(`token id ${id} is outside [0, ${vocabSize})`);
  if (!Number.isInteger(request.maxTokens) || request.maxTokens < 0) throw invalid(`maxTokens must be a non-negative integer (got ${request.maxTokens})`);
  const { temperature, topP, topK } = request;
  if (temperature !== undefined && !(Number.isFinite(temperature) && temperature >= 0)) throw invalid(`temperature must be finite and ≥ 0 (got ${temperature})`);
  if (topP !== undefined && !(topP > 0 && topP <= 1)) throw invalid(`topP must be in (0, 1] (got ${topP})`);
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 0)) throw invalid(`topK must be a non-negative integer (got ${topK})`);
}
