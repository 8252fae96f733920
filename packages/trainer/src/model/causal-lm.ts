import * as tf from '@tensorflow/tfjs';
import { AipoError } from '@aipo/core';
import type { ModelConfig } from './model-config';
import { parameterSpecs, transpose2d, type ParameterSpec } from './parameter-specs';
import type { NamedTensor } from './safetensors';

/** Keys and values of one layer, `[B, H_kv, S, head_dim]`, before the GQA repeat. */
export interface LayerCache {
  k: tf.Tensor4D;
  v: tf.Tensor4D;
}

/** One entry per layer. */
export type KvCache = LayerCache[];

export interface ForwardInput {
  /** [B, T] int32 token ids */
  tokens: tf.Tensor2D;
  /** [B, T] int32 position ids (differ per row under left padding) */
  positions: tf.Tensor2D;
  /** [B, 1, T, S] additive mask (0 = attend, large negative = blocked); S = past + T */
  mask: tf.Tensor4D;
  /** keys/values of the S − T earlier positions */
  cache?: KvCache;
  /**
   * no gradients are needed: a tied head may use a cached `[d, V]` copy of the embedding, so decode
   * steps reuse one XNNPACK operator instead of transposing the embedding every token
   */
  inference?: boolean;
}

export interface ForwardOutput {
  /** [B, T, V] next-token logits */
  logits: tf.Tensor3D;
  /** cache including this call's positions (same tidy scope as the logits) */
  cache: KvCache;
}

let instanceCounter = 0;

/**
 * A decoder-only causal LM on tfjs-core ops that have gradients on every backend (no einsum,
 * gatherND or stridedSlice; linear layers as 2-D matmuls because the broadcast matMul gradient
 * is broken, tfjs#8721; see tfjs-perf.md Q1).
 * - llama family: Llama/Qwen2 (Touvron et al. 2023; HF modeling_llama.py / modeling_qwen2.py).
 * - gpt2 family: Radford et al. 2019 (HF modeling_gpt2.py).
 */
export class CausalLM {
  readonly config: ModelConfig;
  /** trainable weights by HF name, linear weights stored `[in, out]` */
  readonly params: Map<string, tf.Variable>;
  private readonly specs: ParameterSpec[];
  private readonly ropeCos: tf.Tensor2D | undefined;
  private readonly ropeSin: tf.Tensor2D | undefined;
  private readonly ropeRotation: tf.Tensor2D | undefined;
  /** cos/sin × 1/√head_dim: queries come out of RoPE already scaled for attention */
  private readonly ropeQueryCos: tf.Tensor2D | undefined;
  private readonly ropeQuerySin: tf.Tensor2D | undefined;
  private disposed = false;
  private tiedHeadCache: tf.Tensor2D | undefined;
  private meanColumnCache: tf.Tensor2D | undefined;

  private constructor(config: ModelConfig, params: Map<string, tf.Variable>, specs: ParameterSpec[]) {
    this.config = config;
    this.params = params;
    this.specs = specs;
    if (config.family === 'llama') {
      const [cos, sin] = ropeTables(config);
      this.ropeCos = cos;
      this.ropeSin = sin;
      this.ropeRotation = tf.keep(rotateHalfMatrix(config.headDim));
      const scale = 1 / Math.sqrt(config.headDim);
      this.ropeQueryCos = tf.keep(tf.mul(cos, scale));
      this.ropeQuerySin = tf.keep(tf.mul(sin, scale));
    }
  }

  /**
   * Build a model from HF-layout tensors (names and shapes as in `model.safetensors`). GPT-2
   * checkpoints saved from `GPT2Model` lack the `transformer.` prefix; both forms load.
   */
  static fromTensors({ config, tensors, trainable = true }: { config: ModelConfig; tensors: Map<string, NamedTensor>; trainable?: boolean }): CausalLM {
    const specs = parameterSpecs(config);
    const id = instanceCounter++;
    const params = new Map<string, tf.Variable>();
    try {
      for (const spec of specs) {
        const tensor = tensors.get(spec.name) ?? tensors.get(spec.name.replace(/^transformer\./, ''));
        if (tensor === undefined) {
          throw new AipoError({ code: 'CORRUPT_STATE', message: `checkpoint is missing tensor ${spec.name}`, details: { name: spec.name } });
        }
        if (tensor.shape.length !== spec.hfShape.length || tensor.shape.some((d, i) => d !== spec.hfShape[i])) {
          throw new AipoError({
            code: 'SHAPE_MISMATCH',
            message: `tensor ${spec.name} has shape [${tensor.shape}], config.json implies [${spec.hfShape}]`,
            details: { name: spec.name, shape: tensor.shape, expected: spec.hfShape },
          });
        }
        const [rows, cols] = spec.hfShape as [number, number];
        const data = spec.transpose ? transpose2d(tensor.data, rows, cols) : tensor.data;
        const shape = spec.transpose ? [cols, rows] : spec.hfShape;
        params.set(spec.name, tf.variable(tf.tensor(data, shape, 'float32'), trainable, `m${id}/${spec.name}`));
      }
    } catch (error) {
      for (const variable of params.values()) variable.dispose();
      throw error;
    }
    // tf.variable(t) shares t's data by refcount; the init tensors above were never kept, so
    // nothing else to dispose (tfjs-perf.md Q4).
    return new CausalLM(config, params, specs);
  }

  /** Overwrite every weight from HF-layout tensors (checkpoint restore); shapes must match. */
  assignTensors(tensors: Map<string, NamedTensor>): void {
    const values = new Map<string, tf.Tensor>();
    try {
      for (const spec of this.specs) {
        const tensor = tensors.get(spec.name) ?? tensors.get(spec.name.replace(/^transformer\./, ''));
        if (tensor === undefined || tensor.shape.join() !== spec.hfShape.join()) {
          throw new AipoError({ code: 'CORRUPT_STATE', message: `checkpoint tensor ${spec.name} is missing or has the wrong shape`, details: { name: spec.name } });
        }
        const [rows, cols] = spec.hfShape as [number, number];
        values.set(spec.name, spec.transpose ? tf.tensor(transpose2d(tensor.data, rows, cols), [cols, rows]) : tf.tensor(tensor.data, spec.hfShape));
      }
      for (const [name, value] of values) this.params.get(name)!.assign(value);
      this.markWeightsChanged();
    } finally {
      for (const value of values.values()) value.dispose();
    }
  }

  /** The weights in HF layout and naming, ready for `model.safetensors`. */
  async toTensors(): Promise<Map<string, NamedTensor>> {
    const out = new Map<string, NamedTensor>();
    for (const spec of this.specs) {
      const variable = this.params.get(spec.name)!;
      const data = (await variable.data()) as Float32Array;
      const [rows, cols] = variable.shape as [number, number];
      out.set(spec.name, { shape: spec.hfShape, data: spec.transpose ? transpose2d(data, rows, cols) : new Float32Array(data) });
    }
    return out;
  }

  /** Parameter specs (decay flags for the optimizer). */
  parameterSpecs(): readonly ParameterSpec[] {
    return this.specs;
  }

  /** Total number of scalar parameters. */
  parameterCount(): number {
    let n = 0;
    for (const variable of this.params.values()) n += variable.size;
    return n;
  }

  /** Run the decoder; call inside `tf.tidy` (every intermediate is a tensor). */
  forward({ tokens, positions, mask, cache, inference = false }: ForwardInput): ForwardOutput {
    if (this.disposed) throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'model was disposed' });
    const [B, T] = tokens.shape;
    const c = this.config;
    const flatTokens = tokens.reshape([B * T]);
    let x: tf.Tensor2D;
    if (c.family === 'gpt2') {
      x = tf.add<tf.Tensor2D>(tf.gather(this.p('transformer.wte.weight'), flatTokens), tf.gather(this.p('transformer.wpe.weight'), positions.reshape([B * T])));
    } else {
      x = tf.gather(this.p('model.embed_tokens.weight'), flatTokens);
    }
    let rope: { query: Rope; key: Rope } | undefined;
    if (this.ropeCos !== undefined && this.ropeSin !== undefined && this.ropeRotation !== undefined && this.ropeQueryCos !== undefined && this.ropeQuerySin !== undefined) {
      const flatPositions = positions.reshape([B * T]);
      const rows = (table: tf.Tensor2D) => tf.gather(table, flatPositions).reshape([B * T, 1, c.headDim]) as tf.Tensor3D;
      rope = {
        key: { cos: rows(this.ropeCos), sin: rows(this.ropeSin), rotation: this.ropeRotation },
        query: { cos: rows(this.ropeQueryCos), sin: rows(this.ropeQuerySin), rotation: this.ropeRotation },
      };
    }
    const nextCache: KvCache = [];
    for (let layer = 0; layer < c.numLayers; layer++) {
      const past = cache?.[layer];
      const result = c.family === 'gpt2' ? this.gpt2Block({ x, B, T, layer, mask, past }) : this.llamaBlock({ x, B, T, layer, mask, past, rope: rope! });
      x = result.x;
      nextCache.push(result.cache);
    }
    let h: tf.Tensor2D;
    let logits: tf.Tensor2D;
    if (c.family === 'gpt2') {
      h = layerNorm(x, this.p('transformer.ln_f.weight'), this.p('transformer.ln_f.bias'), c.normEps);
      logits = this.head(h, 'transformer.wte.weight', inference);
    } else {
      h = rmsNorm(x, this.p('model.norm.weight'), c.normEps, this.meanColumn());
      logits = this.head(h, 'model.embed_tokens.weight', inference);
    }
    return { logits: logits.reshape([B, T, c.vocabSize]), cache: nextCache };
  }

  /** Free the weights (variables are registered globally by name). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const variable of this.params.values()) variable.dispose();
    this.markWeightsChanged();
    this.ropeCos?.dispose();
    this.ropeSin?.dispose();
    this.ropeRotation?.dispose();
    this.ropeQueryCos?.dispose();
    this.ropeQuerySin?.dispose();
    this.meanColumnCache?.dispose();
  }

  /**
   * Call after changing weights outside `assignTensors` (the trainer does after each update): drops
   * the inference copy of a tied head.
   */
  markWeightsChanged(): void {
    this.tiedHeadCache?.dispose();
    this.tiedHeadCache = undefined;
  }

  private head(h: tf.Tensor2D, embedding: string, inference: boolean): tf.Tensor2D {
    if (!this.config.tieWordEmbeddings) return tf.matMul(h, this.p('lm_head.weight'));
    if (!inference) return tf.matMul(h, this.p(embedding), false, true);
    if (this.tiedHeadCache === undefined) {
      this.tiedHeadCache = tf.keep(tf.transpose(this.p(embedding)));
    }
    return tf.matMul(h, this.tiedHeadCache);
  }

  /** `[d, 1]` column of 1/d (see rmsNorm), created once. */
  private meanColumn(): tf.Tensor2D {
    const d = this.config.hiddenSize;
    this.meanColumnCache ??= tf.keep(tf.fill([d, 1], 1 / d) as tf.Tensor2D);
    return this.meanColumnCache;
  }

  private p(name: string): tf.Tensor2D {
    const variable = this.params.get(name);
    if (variable === undefined) throw new AipoError({ code: 'INTERNAL', message: `no parameter ${name}` });
    return variable as unknown as tf.Tensor2D;
  }

  private linear(x: tf.Tensor2D, weight: string, bias?: string): tf.Tensor2D {
    const y = tf.matMul(x, this.p(weight)) as tf.Tensor2D;
    return bias === undefined ? y : tf.add<tf.Tensor2D>(y, this.p(bias));
  }

  private llamaBlock(input: BlockInput & { rope: { query: Rope; key: Rope } }): { x: tf.Tensor2D; cache: LayerCache } {
    const { x, B, T, layer, mask, past, rope } = input;
    const c = this.config;
    const prefix = `model.layers.${layer}`;
    const bias = (name: string) => (c.attentionBias ? `${prefix}.self_attn.${name}.bias` : undefined);
    const h = rmsNorm(x, this.p(`${prefix}.input_layernorm.weight`), c.normEps, this.meanColumn());
    const q = splitHeads(applyRope(this.linear(h, `${prefix}.self_attn.q_proj.weight`, bias('q_proj')), c.numHeads, rope.query), B, T, c.numHeads, c.headDim);
    const k = splitHeads(applyRope(this.linear(h, `${prefix}.self_attn.k_proj.weight`, bias('k_proj')), c.numKvHeads, rope.key), B, T, c.numKvHeads, c.headDim);
    const v = splitHeads(this.linear(h, `${prefix}.self_attn.v_proj.weight`, bias('v_proj')), B, T, c.numKvHeads, c.headDim);
    const { output, cache } = this.attention({ q, k, v, past, mask, B, T, queryScaled: true });
    const x1 = tf.add<tf.Tensor2D>(x, this.linear(output, `${prefix}.self_attn.o_proj.weight`));
    const h2 = rmsNorm(x1, this.p(`${prefix}.post_attention_layernorm.weight`), c.normEps, this.meanColumn());
    // SwiGLU (Shazeer 2020): down(silu(gate(h)) * up(h))
    const gate = this.linear(h2, `${prefix}.mlp.gate_proj.weight`);
    const gated = tf.mul(tf.mul(gate, tf.sigmoid(gate)), this.linear(h2, `${prefix}.mlp.up_proj.weight`));
    return { x: tf.add<tf.Tensor2D>(x1, this.linear(gated as tf.Tensor2D, `${prefix}.mlp.down_proj.weight`)), cache };
  }

  private gpt2Block({ x, B, T, layer, mask, past }: BlockInput): { x: tf.Tensor2D; cache: LayerCache } {
    const c = this.config;
    const d = c.hiddenSize;
    const prefix = `transformer.h.${layer}`;
    const h = layerNorm(x, this.p(`${prefix}.ln_1.weight`), this.p(`${prefix}.ln_1.bias`), c.normEps);
    const qkv = this.linear(h, `${prefix}.attn.c_attn.weight`, `${prefix}.attn.c_attn.bias`);
    const q = splitHeads(tf.slice(qkv, [0, 0], [B * T, d]), B, T, c.numHeads, c.headDim);
    const k = splitHeads(tf.slice(qkv, [0, d], [B * T, d]), B, T, c.numHeads, c.headDim);
    const v = splitHeads(tf.slice(qkv, [0, 2 * d], [B * T, d]), B, T, c.numHeads, c.headDim);
    const { output, cache } = this.attention({ q, k, v, past, mask, B, T, queryScaled: false });
    const x1 = tf.add<tf.Tensor2D>(x, this.linear(output, `${prefix}.attn.c_proj.weight`, `${prefix}.attn.c_proj.bias`));
    const h2 = layerNorm(x1, this.p(`${prefix}.ln_2.weight`), this.p(`${prefix}.ln_2.bias`), c.normEps);
    const hidden = geluTanh(this.linear(h2, `${prefix}.mlp.c_fc.weight`, `${prefix}.mlp.c_fc.bias`));
    return { x: tf.add<tf.Tensor2D>(x1, this.linear(hidden, `${prefix}.mlp.c_proj.weight`, `${prefix}.mlp.c_proj.bias`)), cache };
  }

  /** Causal attention with a KV cache and grouped-query heads; returns `[B*T, H*head_dim]`. */
  private attention(input: { q: tf.Tensor4D; k: tf.Tensor4D; v: tf.Tensor4D; past: LayerCache | undefined; mask: tf.Tensor4D; B: number; T: number; queryScaled: boolean }): {
    output: tf.Tensor2D;
    cache: LayerCache;
  } {
    const { k, v, past, mask, B, T } = input;
    const c = this.config;
    // 1/√d_k (Vaswani et al. 2017) on the [B,H,T,hd] queries, not the [B,H,T,S] scores: 4× fewer
    // elements when S = T, and free for llama, whose RoPE tables carry the factor.
    const q = input.queryScaled ? input.q : tf.mul(input.q, 1 / Math.sqrt(c.headDim));
    const keys = past === undefined ? k : tf.concat([past.k, k], 2);
    const values = past === undefined ? v : tf.concat([past.v, v], 2);
    const S = keys.shape[2];
    const groups = c.numHeads / c.numKvHeads;
    // GQA (Ainslie et al. 2023): query head h reads kv head floor(h / groups), as HF repeat_kv.
    // gather on the head axis (tile has no rank-5 gradient in tfjs 4.22).
    const heads = groups === 1 ? undefined : tf.tensor1d(Array.from({ length: c.numHeads }, (_, h) => Math.floor(h / groups)), 'int32');
    const repeat = (t: tf.Tensor4D) => (heads === undefined ? t : (tf.gather(t, heads, 1) as tf.Tensor4D));
    let attended: tf.Tensor4D;
    if (T === 1) {
      // Decode step: one query row per head. Broadcast multiply + sum is much faster on wasm than a
      // batch of B·H one-row matmuls, which the stock kernel runs in its scalar loop.
      const scores = tf.add(tf.sum(tf.mul(q, repeat(keys)), -1, true).reshape([B, c.numHeads, 1, S]), mask); // [B,H,1,S]
      const p = tf.softmax(scores).reshape([B, c.numHeads, S, 1]);
      attended = tf.sum(tf.mul(p, repeat(values)), 2, true) as tf.Tensor4D; // [B,H,1,hd]
    } else {
      const scores = tf.add(tf.matMul(q, repeat(keys), false, true), mask); // [B,H,T,S]
      attended = tf.matMul(tf.softmax(scores), repeat(values)); // [B,H,T,hd]
    }
    const output = attended.transpose([0, 2, 1, 3]).reshape([B * T, c.numHeads * c.headDim]) as tf.Tensor2D;
    return { output, cache: { k: keys, v: values } };
  }
}

interface BlockInput {
  x: tf.Tensor2D;
  B: number;
  T: number;
  layer: number;
  mask: tf.Tensor4D;
  past: LayerCache | undefined;
}

/** [B*T, H*hd] → [B, H, T, hd] */
function splitHeads(x: tf.Tensor2D, B: number, T: number, heads: number, headDim: number): tf.Tensor4D {
  return x.reshape([B, T, heads, headDim]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
}

/**
 * RMSNorm (Zhang & Sennrich 2019). mean(x², −1) is a product with a `[d, 1]` column of 1/d: its
 * gradient is another product, while tf.mean's gradient builds a ones tensor of x's shape in JS on
 * every call (tfjs-core mean_grad; ≈ 2.4M floats per step on the benchmark model).
 */
function rmsNorm(x: tf.Tensor2D, weight: tf.Tensor, eps: number, meanColumn: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.matMul(tf.square(x), meanColumn), eps))), weight);
}

function layerNorm(x: tf.Tensor2D, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), weight), bias);
}

/** GPT-2's "gelu_new": 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))). */
function geluTanh(x: tf.Tensor2D): tf.Tensor2D {
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

/** RoPE inputs of one forward pass: `[B*T, 1, head_dim]` cos/sin rows and the rotate-half matrix. */
interface Rope {
  cos: tf.Tensor3D;
  sin: tf.Tensor3D;
  rotation: tf.Tensor2D;
}

/**
 * HF rotate-half RoPE (Su et al. 2021): x·cos + rotate_half(x)·sin, rotate_half(x) = [−x₂, x₁], on
 * the flat `[B*T, heads*head_dim]` projection. rotate_half is a product with a signed permutation
 * matrix (exact: one ±1 term per output) instead of slice/neg/concat, whose forward and gradient
 * cost 8 kernels per call on wasm (slice, neg, concat; SplitV, pad, add in the backward pass).
 */
function applyRope(x: tf.Tensor2D, heads: number, { cos, sin, rotation }: Rope): tf.Tensor2D {
  const [rows, width] = x.shape;
  const headDim = width / heads;
  const perHead = x.reshape([rows, heads, headDim]);
  const rotated = tf.matMul(x.reshape([rows * heads, headDim]), rotation).reshape([rows, heads, headDim]);
  return tf.add(tf.mul(perHead, cos), tf.mul(rotated, sin)).reshape([rows, width]) as tf.Tensor2D;
}

/** R with x·R = rotate_half(x): R[i + hd/2, i] = −1 and R[i, i + hd/2] = 1 for i < hd/2. */
function rotateHalfMatrix(headDim: number): tf.Tensor2D {
  const half = headDim / 2;
  const values = new Float32Array(headDim * headDim);
  for (let i = 0; i < half; i++) {
    values[(i + half) * headDim + i] = -1;
    values[i * headDim + i + half] = 1;
  }
  return tf.tensor2d(values, [headDim, headDim]);
}

/** cos/sin tables `[maxPositions, head_dim]` with inv_freq_i = θ^(−2i/hd), duplicated halves (HF). */
function ropeTables(c: ModelConfig): [tf.Tensor2D, tf.Tensor2D] {
  const half = c.headDim / 2;
  const cos = new Float32Array(c.maxPositions * c.headDim);
  const sin = new Float32Array(c.maxPositions * c.headDim);
  for (let position = 0; position < c.maxPositions; position++) {
    for (let i = 0; i < half; i++) {
      const angle = position * c.ropeTheta ** ((-2 * i) / c.headDim);
      const base = position * c.headDim;
      cos[base + i] = cos[base + i + half] = Math.cos(angle);
      sin[base + i] = sin[base + i + half] = Math.sin(angle);
    }
  }
  return [tf.keep(tf.tensor2d(cos, [c.maxPositions, c.headDim])), tf.keep(tf.tensor2d(sin, [c.maxPositions, c.headDim]))];
}
