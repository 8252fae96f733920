import * as tf from '@tensorflow/tfjs';
import { AipoError } from '@aipo/core';
import type { CausalLM } from './causal-lm';

/** One decoder block's weights as the decode path uses them. */
export interface DecodeLayerWeights {
  /** llama: input RMSNorm; gpt2: ln_1 (weight, bias) */
  norm1: Float32Array;
  norm1Bias: Float32Array | undefined;
  /** `[d, (H + 2·H_kv)·hd]` fused q|k|v projections (one matmul instead of three) */
  qkv: tf.Tensor2D[];
  /** q|k|v bias (Qwen2, gpt2), same column order */
  qkvBias: Float32Array | undefined;
  /** `[H·hd, d]` */
  out: tf.Tensor2D;
  outBias: Float32Array | undefined;
  norm2: Float32Array;
  norm2Bias: Float32Array | undefined;
  /** llama: `[d, 2F]` fused gate|up; gpt2: c_fc `[d, F]` */
  up: tf.Tensor2D[];
  upBias: Float32Array | undefined;
  /** `[F, d]` */
  down: tf.Tensor2D;
  downBias: Float32Array | undefined;
}

/** A model's weights prepared for token-by-token decoding (see `decodeForward`). */
export interface DecodeWeights {
  readonly model: CausalLM;
  readonly layers: readonly DecodeLayerWeights[];
  /** final norm */
  readonly finalNorm: Float32Array;
  readonly finalNormBias: Float32Array | undefined;
  /** `[V, d]` token embedding (gathered on the backend) */
  readonly embedding: tf.Tensor2D;
  /** gpt2 `[maxPositions, d]` learned positions */
  readonly positionEmbedding: tf.Tensor2D | undefined;
  /** `[d, V]` LM head (a transposed copy when tied) */
  readonly head: tf.Tensor2D;
  /** true while the model's variables still hold the values these were built from */
  isCurrent(): boolean;
  /** free the fused copies (the model's own variables are untouched) */
  dispose(): void;
}

/**
 * Above this many parameters the fused q|k|v and gate|up copies are not made (they would double
 * the weights in a wasm heap capped at 4 GiB, tfjs-perf.md Q4); the decode path then runs one
 * matmul per projection.
 */
const FUSE_LIMIT = 64_000_000;

/**
 * Snapshot a model's weights for decoding: linear weights stay `[in, out]` backend tensors (the
 * XNNPACK operator cached per weight is reused every step, tfjs-perf.md Q1 patch 3), projections
 * that read the same input are concatenated so a step runs 4 matmuls per block instead of 7, and
 * the small vectors (norms, biases) move to JS where the decode path applies them.
 * Variables change identity (`dataId`) on `assign`, which is how `isCurrent` sees a training step.
 */
export async function createDecodeWeights(model: CausalLM): Promise<DecodeWeights> {
  const c = model.config;
  const variable = (name: string) => {
    const found = model.params.get(name);
    if (found === undefined) throw new AipoError({ code: 'INTERNAL', message: `no parameter ${name}` });
    if (found.isDisposed) throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'model was disposed' });
    return found as unknown as tf.Tensor2D;
  };
  const vector = async (name: string) => new Float32Array((await variable(name).data()) as Float32Array);
  const optional = async (name: string) => (model.params.has(name) ? vector(name) : undefined);
  const snapshot = new Map([...model.params].map(([name, v]) => [name, v.dataId]));
  const owned: tf.Tensor[] = [];
  const fuse = model.parameterCount() <= FUSE_LIMIT;
  const concat = (names: string[]): tf.Tensor2D[] => {
    const parts = names.map(variable);
    if (!fuse || parts.length === 1) return parts;
    const fused = tf.concat(parts, 1);
    owned.push(fused);
    return [fused];
  };
  const catVectors = async (names: string[]) => {
    const parts = await Promise.all(names.map(optional));
    if (parts.some((part) => part === undefined)) return undefined;
    const out = new Float32Array(parts.reduce((n, part) => n + part!.length, 0));
    let offset = 0;
    for (const part of parts) {
      out.set(part!, offset);
      offset += part!.length;
    }
    return out;
  };
  const layers: DecodeLayerWeights[] = [];
  try {
    for (let i = 0; i < c.numLayers; i++) {
      if (c.family === 'gpt2') {
        const p = `transformer.h.${i}`;
        layers.push({
          norm1: await vector(`${p}.ln_1.weight`),
          norm1Bias: await vector(`${p}.ln_1.bias`),
          qkv: [variable(`${p}.attn.c_attn.weight`)],
          qkvBias: await vector(`${p}.attn.c_attn.bias`),
          out: variable(`${p}.attn.c_proj.weight`),
          outBias: await vector(`${p}.attn.c_proj.bias`),
          norm2: await vector(`${p}.ln_2.weight`),
          norm2Bias: await vector(`${p}.ln_2.bias`),
          up: [variable(`${p}.mlp.c_fc.weight`)],
          upBias: await vector(`${p}.mlp.c_fc.bias`),
          down: variable(`${p}.mlp.c_proj.weight`),
          downBias: await vector(`${p}.mlp.c_proj.bias`),
        });
      } else {
        const p = `model.layers.${i}`;
        const projections = ['q_proj', 'k_proj', 'v_proj'].map((name) => `${p}.self_attn.${name}`);
        layers.push({
          norm1: await vector(`${p}.input_layernorm.weight`),
          norm1Bias: undefined,
          qkv: concat(projections.map((name) => `${name}.weight`)),
          qkvBias: c.attentionBias ? await catVectors(projections.map((name) => `${name}.bias`)) : undefined,
          out: variable(`${p}.self_attn.o_proj.weight`),
          outBias: undefined,
          norm2: await vector(`${p}.post_attention_layernorm.weight`),
          norm2Bias: undefined,
          up: concat([`${p}.mlp.gate_proj.weight`, `${p}.mlp.up_proj.weight`]),
          upBias: undefined,
          down: variable(`${p}.mlp.down_proj.weight`),
          downBias: undefined,
        });
      }
    }
    const gpt2 = c.family === 'gpt2';
    const embedding = variable(gpt2 ? 'transformer.wte.weight' : 'model.embed_tokens.weight');
    let head: tf.Tensor2D;
    if (c.tieWordEmbeddings) {
      head = tf.transpose(embedding);
      owned.push(head);
    } else {
      head = variable('lm_head.weight');
    }
    const finalNorm = await vector(gpt2 ? 'transformer.ln_f.weight' : 'model.norm.weight');
    const finalNormBias = gpt2 ? await vector('transformer.ln_f.bias') : undefined;
    let disposed = false;
    return {
      model,
      layers,
      finalNorm,
      finalNormBias,
      embedding,
      positionEmbedding: gpt2 ? variable('transformer.wpe.weight') : undefined,
      head,
      isCurrent: () => !disposed && [...model.params].every(([name, v]) => !v.isDisposed && snapshot.get(name) === v.dataId),
      dispose: () => {
        if (disposed) return;
        disposed = true;
        for (const tensor of owned) tensor.dispose();
      },
    };
  } catch (error) {
    for (const tensor of owned) tensor.dispose();
    throw error;
  }
}
