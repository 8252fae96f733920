import type { Rng } from '@aipo/core';

/** One sampled continuation. */
export interface SampledSequence {
  /** generated token ids (the stop text included when a stop string ended generation) */
  tokenIds: number[];
  /** log π(token) under the sampling policy at temperature 1, one per generated token */
  logProbs: number[];
  /** decoded `tokenIds` */
  text: string;
  /** `stop`: end token or stop string; `length`: maxTokens reached */
  finishReason: 'stop' | 'length';
  /** the stop string that ended generation, if any */
  stop?: string;
}

/** A prompt and a response, both as token ids. */
export interface TokenSequence {
  /** context tokens (not trained) */
  prompt: number[];
  /** response tokens (scored / trained) */
  response: number[];
}

export interface SampleRequest {
  /** one context per sequence to continue */
  contexts: number[][];
  /** generation cap per sequence */
  maxTokens: number;
  /** sampling temperature (1 = the policy's distribution; the recipes sample at 1 so logProbs are π_old) */
  temperature: number;
  /** stop strings (kept in the output) */
  stop?: string[];
  /** randomness source (one draw per sampled token, in a fixed order: deterministic under a seed) */
  rng: Rng;
}

/** Per-token scores of response tokens, one array per sequence (length = response length). */
export interface SequenceScores {
  /** log π_θ(token) */
  logProbs: Float32Array[];
  /** entropy of π_θ(·) at the position that produced the token (nats) */
  entropies: Float32Array[];
}

/**
 * What a recipe needs from a trainable policy: batched sampling with log-probs, scoring, and one
 * optimizer step on the surrogate Σ sg(w)·log π_θ, where w = ∂L/∂log π_θ comes from the recipe's
 * loss. "Weights in, log-probs out" keeps every loss (PPO-clip, LUFFY shaping, AIPO coefficient,
 * SFT) outside the model.
 */
export interface RecipePolicy {
  /** model identity for logs and checkpoints */
  readonly modelId: string;
  /** text → token ids */
  encode(text: string): number[];
  /** token ids → text */
  decode(tokenIds: number[]): string;
  /** id that ends a response */
  readonly endTokenId: number;
  /** sample one continuation per context */
  sample(request: SampleRequest): Promise<SampledSequence[]>;
  /** log-probs and entropies of the response tokens */
  score(sequences: TokenSequence[]): Promise<SequenceScores>;
  /**
   * One optimizer step; `weights[i][t]` multiplies log π_θ of response token t of sequence i.
   * Returns the global gradient norm before clipping and the surrogate's value Σ w·log π_θ
   * (for SFT weights −1/N that is the mean NLL).
   */
  trainStep(input: { sequences: TokenSequence[]; weights: Float32Array[]; learningRate: number; entropyBonus?: EntropyBonusRequest }): Promise<{ gradNorm: number; surrogate: number }>;
  /** whether `trainStep` honours `entropyBonus` (it needs the full next-token distribution) */
  readonly supportsEntropyBonus: boolean;
  /**
   * Write the current weights as a folder Hugging Face tools read (config.json, model.safetensors,
   * tokenizer files); only policies over a HF transformer have it.
   */
  exportHfFolder?(dir: string): Promise<void>;
  /** serialisable weights + optimizer state (exact resume) */
  saveState(): Promise<PolicyState>;
  /** restore from `saveState` output */
  loadState(state: PolicyState): Promise<void>;
  /** an independent copy with the same weights and a fresh optimizer */
  clone(): Promise<RecipePolicy>;
  /** free tensors */
  dispose(): void;
}

/**
 * An entropy bonus to add to one optimizer step: loss −= c·agg(H_t) over the masked response
 * tokens, with H_t the entropy of π_θ(·) at the position that produced token t. Its gradient goes
 * through the logits (core's `entropyBonus`), so only policies that expose the full distribution
 * support it (`supportsEntropyBonus`).
 */
export interface EntropyBonusRequest {
  /** c > 0 */
  coefficient: number;
  /** per sequence, 1 for response tokens whose position gets the bonus */
  mask: Uint8Array[];
  /** the policy loss's aggregation (token-mean, seq-mean-token-mean or Dr.GRPO's constant length) */
  aggregation: 'token-mean' | 'seq-mean-token-mean' | 'seq-mean-token-sum-norm';
  /** Dr.GRPO's constant C (maxResponseTokens) for 'seq-mean-token-sum-norm' */
  normConstant: number;
}

/** Weights and optimizer state as plain arrays (JSON-serialisable after `Array.from`). */
export interface PolicyState {
  /** model identity the state belongs to */
  modelId: string;
  /** named parameter tensors: shape + values */
  weights: Record<string, { shape: number[]; values: number[] }>;
  /** optimizer slots in the same format */
  optimizer: Record<string, { shape: number[]; values: number[] }>;
}
