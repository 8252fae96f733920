import { z } from 'zod';
import { AipoError } from '@aipo/core';

/**
 * The architecture settings the model needs, normalised from a Hugging Face `config.json`.
 * Two families: `llama` (Llama / Qwen2 / Mistral: RMSNorm, RoPE, GQA, SwiGLU) and `gpt2`
 * (LayerNorm, learned positions, GELU-tanh MLP, fused c_attn).
 */
export interface ModelConfig {
  /** architecture family */
  family: 'llama' | 'gpt2';
  /** HF `model_type` as read (llama, qwen2, mistral, gpt2) */
  modelType: string;
  /** V */
  vocabSize: number;
  /** d */
  hiddenSize: number;
  /** MLP width (llama: intermediate_size; gpt2: n_inner ?? 4d) */
  intermediateSize: number;
  /** number of decoder blocks */
  numLayers: number;
  /** query heads */
  numHeads: number;
  /** key/value heads (GQA; equals numHeads for MHA) */
  numKvHeads: number;
  /** per-head width */
  headDim: number;
  /** norm epsilon */
  normEps: number;
  /** RoPE base (llama) */
  ropeTheta: number;
  /** longest position the model supports */
  maxPositions: number;
  /** lm head shares the embedding matrix */
  tieWordEmbeddings: boolean;
  /** q/k/v projections carry a bias (Qwen2: always) */
  attentionBias: boolean;
  /** end-of-sequence ids from the config */
  eosTokenIds: number[];
  /** beginning-of-sequence id, if any */
  bosTokenId: number | undefined;
  /** the original config.json, written back unchanged on save */
  raw: Record<string, unknown>;
}

const ids = z.union([z.number().int(), z.array(z.number().int())]).nullish();
const positive = z.number().int().positive();

const llamaSchema = z.object({
  model_type: z.enum(['llama', 'qwen2', 'mistral']),
  vocab_size: positive,
  hidden_size: positive,
  intermediate_size: positive,
  num_hidden_layers: positive,
  num_attention_heads: positive,
  num_key_value_heads: positive.nullish(),
  head_dim: positive.nullish(),
  rms_norm_eps: z.number().positive().nullish(),
  rope_theta: z.number().positive().nullish(),
  max_position_embeddings: positive.nullish(),
  tie_word_embeddings: z.boolean().nullish(),
  attention_bias: z.boolean().nullish(),
  bos_token_id: z.number().int().nullish(),
  eos_token_id: ids,
});

const gpt2Schema = z.object({
  model_type: z.literal('gpt2'),
  vocab_size: positive,
  n_embd: positive,
  n_layer: positive,
  n_head: positive,
  n_inner: positive.nullish(),
  n_positions: positive.nullish(),
  layer_norm_epsilon: z.number().positive().nullish(),
  tie_word_embeddings: z.boolean().nullish(),
  bos_token_id: z.number().int().nullish(),
  eos_token_id: ids,
});

/** Validate a parsed config.json and normalise it; throws INVALID_CONFIG naming the bad field. */
export function parseModelConfig(raw: unknown): ModelConfig {
  const type = (raw as { model_type?: unknown } | null)?.model_type;
  const invalid = (message: string, cause?: unknown) =>
    new AipoError({ code: 'INVALID_CONFIG', message: `config.json: ${message}`, cause, details: { modelType: type } });
  if (type === 'gpt2') {
    const parsed = gpt2Schema.safeParse(raw);
    if (!parsed.success) throw invalid(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), parsed.error);
    const c = parsed.data;
    if (c.n_embd % c.n_head !== 0) throw invalid(`n_embd ${c.n_embd} is not divisible by n_head ${c.n_head}`);
    return {
      family: 'gpt2',
      modelType: 'gpt2',
      vocabSize: c.vocab_size,
      hiddenSize: c.n_embd,
      intermediateSize: c.n_inner ?? 4 * c.n_embd,
      numLayers: c.n_layer,
      numHeads: c.n_head,
      numKvHeads: c.n_head,
      headDim: c.n_embd / c.n_head,
      normEps: c.layer_norm_epsilon ?? 1e-5,
      ropeTheta: 0,
      maxPositions: c.n_positions ?? 1024,
      tieWordEmbeddings: c.tie_word_embeddings ?? true,
      attentionBias: true,
      eosTokenIds: toIds(c.eos_token_id),
      bosTokenId: c.bos_token_id ?? undefined,
      raw: raw as Record<string, unknown>,
    };
  }
  if (type === 'llama' || type === 'qwen2' || type === 'mistral') {
    const parsed = llamaSchema.safeParse(raw);
    if (!parsed.success) throw invalid(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), parsed.error);
    const c = parsed.data;
    const numKvHeads = c.num_key_value_heads ?? c.num_attention_heads;
    if (c.num_attention_heads % numKvHeads !== 0) {
      throw invalid(`num_attention_heads ${c.num_attention_heads} is not a multiple of num_key_value_heads ${numKvHeads}`);
    }
    const headDim = c.head_dim ?? c.hidden_size / c.num_attention_heads;
    if (!Number.isInteger(headDim) || headDim % 2 !== 0) throw invalid(`head dimension ${headDim} must be an even integer (RoPE)`);
    return {
      family: 'llama',
      modelType: c.model_type,
      vocabSize: c.vocab_size,
      hiddenSize: c.hidden_size,
      intermediateSize: c.intermediate_size,
      numLayers: c.num_hidden_layers,
      numHeads: c.num_attention_heads,
      numKvHeads,
      headDim,
      normEps: c.rms_norm_eps ?? 1e-6,
      ropeTheta: c.rope_theta ?? 10000,
      maxPositions: c.max_position_embeddings ?? 2048,
      // Qwen2 always has q/k/v biases (modeling_qwen2.py); Llama has them only with attention_bias.
      attentionBias: c.model_type === 'qwen2' ? true : (c.attention_bias ?? false),
      tieWordEmbeddings: c.tie_word_embeddings ?? false,
      eosTokenIds: toIds(c.eos_token_id),
      bosTokenId: c.bos_token_id ?? undefined,
      raw: raw as Record<string, unknown>,
    };
  }
  throw invalid(`unsupported model_type ${JSON.stringify(type)} (supported: llama, qwen2, mistral, gpt2)`);
}

function toIds(value: number | number[] | null | undefined): number[] {
  if (value === null || value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
