import * as tf from '@tensorflow/tfjs';
import { AipoError } from '@aipo/core';
import type { CausalLM } from './causal-lm';
import type { DecodeArena } from './decode-simd';

/**
 * A `[rows, cols]` matrix: row-major in a decode arena (`heap()` index of its first float), or, for a
 * model too large for the arena, a tensor on the tfjs backend (`index` −1; `transposed` when the
 * tensor is `[cols, rows]`, a tied head read through the embedding).
 */
export interface DecodeMatrix {
  readonly index: number;
  readonly rows: number;
  readonly cols: number;
  readonly backend?: { readonly tensor: tf.Tensor2D; readonly transposed: boolean };
}

export interface CreateDecodeWeightsOptions {
  /**
   * weights above this many bytes stay on the tfjs backend instead of being copied into the arena
   * (default 3 GiB: wasm32 memories stop at 4 GiB and the KV cache needs room next to them)
   */
  arenaWeightLimitBytes?: number;
}

/** One decoder block's weights as the decode path uses them. */
export interface DecodeLayerWeights {
  /** llama: input RMSNorm; gpt2: ln_1 (weight, bias) */
  norm1: Float32Array;
  norm1Bias: Float32Array | undefined;
  /** `[d, (H + 2·H_kv)·hd]` fused q|k|v projections (one matmul instead of three) */
  qkv: DecodeMatrix;
  /** q|k|v bias (Qwen2, gpt2), same column order */
  qkvBias: Float32Array | undefined;
  /** `[H·hd, d]` */
  out: DecodeMatrix;
  outBias: Float32Array | undefined;
  norm2: Float32Array;
  norm2Bias: Float32Array | undefined;
  /** llama: `[d, 2F]` fused gate|up; gpt2: c_fc `[d, F]` */
  up: DecodeMatrix;
  upBias: Float32Array | undefined;
  /** `[F, d]` */
  down: DecodeMatrix;
  downBias: Float32Array | undefined;
}

/** A model's weights prepared for token-by-token decoding (see `decodeForward`). */
export interface DecodeWeights {
  readonly model: CausalLM;
  /** the memory holding the matrices (the KV cache's: `decodeForward` needs both in one arena) */
  readonly arena: DecodeArena;
  /** where the matrices are: copied into the arena, or left on the tfjs backend (a model too large for it) */
  readonly location: 'arena' | 'backend';
  readonly layers: readonly DecodeLayerWeights[];
  /** final norm */
  readonly finalNorm: Float32Array;
  readonly finalNormBias: Float32Array | undefined;
  /** `[V, d]` token embedding */
  readonly embedding: DecodeMatrix;
  /** gpt2 `[maxPositions, d]` learned positions */
  readonly positionEmbedding: DecodeMatrix | undefined;
  /** `[d, V]` LM head (a transposed copy when tied) */
  readonly head: DecodeMatrix;
  /** true while the model's variables still hold the values these were built from */
  isCurrent(): boolean;
  /** give the matrices back to the arena (the model's own variables are untouched) */
  dispose(): void;
}

/** wasm32 memories stop at 4 GiB; the KV cache needs room next to the weights. */
const ARENA_WEIGHT_LIMIT_BYTES = 3 * 2 ** 30;

/**
 * Snapshot a model's weights for decoding, copied once into `arena` (the KV cache's wasm memory),
 * so a decode step reads them in place with no backend op and no read back to JS
 * (tfjs-perf.md Q2: at decode sizes a tfjs op costs more in dispatch than in arithmetic).
 * Linear weights stay `[in, out]` as the model stores them; projections that read the same input
 * are concatenated column-wise so a step runs 4 matmuls per block instead of 7; the small vectors
 * (norms, biases) stay in JS. Variables change identity (`dataId`) on `assign`, which is how
 * `isCurrent` sees a training step. A model whose weights exceed `arenaWeightLimitBytes` keeps its
 * matrices on the tfjs backend (`location: 'backend'`; only the fused projections are new tensors).
 */
export async function createDecodeWeights(model: CausalLM, arena: DecodeArena, { arenaWeightLimitBytes = ARENA_WEIGHT_LIMIT_BYTES }: CreateDecodeWeightsOptions = {}): Promise<DecodeWeights> {
  const c = model.config;
  const variable = (name: string): tf.Variable => {
    const found = model.params.get(name);
    if (found === undefined) throw new AipoError({ code: 'INTERNAL', message: `no parameter ${name}` });
    if (found.isDisposed) throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'model was disposed' });
    return found;
  };
  const bytes = [...model.params.values()].reduce((sum, v) => sum + v.size * 4, 0);
  // a model too large for the arena decodes with its matrices on the backend (one tfjs matmul each,
  // as the decode path did before it moved into the arena); the KV cache stays in the arena
  const onBackend = bytes > arenaWeightLimitBytes;
  const ownedTensors: tf.Tensor[] = [];
  const vector = async (name: string) => new Float32Array((await variable(name).data()) as Float32Array);
  const optional = async (name: string) => (model.params.has(name) ? vector(name) : undefined);
  const snapshot = new Map([...model.params].map(([name, v]) => [name, v.dataId]));
  const owned: Array<{ index: number; floats: number }> = [];
  const place = (rows: number, cols: number): DecodeMatrix => {
    const index = arena.allocate(rows * cols);
    owned.push({ index, floats: rows * cols });
    return { index, rows, cols };
  };
  /** `[in, out]` weights side by side: `[in, Σ out]` (row r = the parts' rows r, concatenated) */
  const matrix = async (names: string[]): Promise<DecodeMatrix> => {
    const parts = names.map(variable);
    const rows = parts[0]!.shape[0]!;
    const widths = parts.map((part) => part.shape[1]!);
    if (onBackend) {
      const tensor = parts.length === 1 ? (parts[0] as tf.Tensor2D) : tf.concat(parts as tf.Tensor2D[], 1);
      if (parts.length > 1) ownedTensors.push(tensor);
      return { index: -1, rows, cols: tensor.shape[1], backend: { tensor, transposed: false } };
    }
    const target = place(rows, widths.reduce((sum, w) => sum + w, 0));
    let column = 0;
    for (const [i, part] of parts.entries()) {
      const data = (await part.data()) as Float32Array;
      const w = widths[i]!;
      const heap = arena.heap();
      for (let r = 0; r < rows; r++) heap.set(data.subarray(r * w, (r + 1) * w), target.index + r * target.cols + column);
      column += w;
    }
    return target;
  };
  const transposed = async (name: string): Promise<DecodeMatrix> => {
    const source = variable(name);
    const [rows, cols] = [source.shape[0]!, source.shape[1]!];
    if (onBackend) return { index: -1, rows: cols, cols: rows, backend: { tensor: source as tf.Tensor2D, transposed: true } };
    const target = place(cols, rows);
    const data = (await source.data()) as Float32Array;
    const heap = arena.heap();
    for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) heap[target.index + j * rows + r] = data[r * cols + j]!;
    return target;
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
  const free = () => {
    for (const { index, floats } of owned.splice(0)) arena.free(index, floats);
    for (const tensor of ownedTensors.splice(0)) tensor.dispose();
  };
  const layers: DecodeLayerWeights[] = [];
  try {
    for (let i = 0; i < c.numLayers; i++) {
      if (c.family === 'gpt2') {
        const p = `transformer.h.${i}`;
        layers.push({
          norm1: await vector(`${p}.ln_1.weight`),
          norm1Bias: await vector(`${p}.ln_1.bias`),
          qkv: await matrix([`${p}.attn.c_attn.weight`]),
          qkvBias: await vector(`${p}.attn.c_attn.bias`),
          out: await matrix([`${p}.attn.c_proj.weight`]),
          outBias: await vector(`${p}.attn.c_proj.bias`),
          norm2: await vector(`${p}.ln_2.weight`),
          norm2Bias: await vector(`${p}.ln_2.bias`),
          up: await matrix([`${p}.mlp.c_fc.weight`]),
          upBias: await vector(`${p}.mlp.c_fc.bias`),
          down: await matrix([`${p}.mlp.c_proj.weight`]),
          downBias: await vector(`${p}.mlp.c_proj.bias`),
        });
      } else {
        const p = `model.layers.${i}`;
        const projections = ['q_proj', 'k_proj', 'v_proj'].map((name) => `${p}.self_attn.${name}`);
        layers.push({
          norm1: await vector(`${p}.input_layernorm.weight`),
          norm1Bias: undefined,
          qkv: await matrix(projections.map((name) => `${name}.weight`)),
          qkvBias: c.attentionBias ? await catVectors(projections.map((name) => `${name}.bias`)) : undefined,
          out: await matrix([`${p}.self_attn.o_proj.weight`]),
          outBias: undefined,
          norm2: await vector(`${p}.post_attention_layernorm.weight`),
          norm2Bias: undefined,
          up: await matrix([`${p}.mlp.gate_proj.weight`, `${p}.mlp.up_proj.weight`]),
          upBias: undefined,
          down: await matrix([`${p}.mlp.down_proj.weight`]),
          downBias: undefined,
        });
      }
    }
    const gpt2 = c.family === 'gpt2';
    const embeddingName = gpt2 ? 'transformer.wte.weight' : 'model.embed_tokens.weight';
    const embedding = await matrix([embeddingName]);
    // the LM head multiplies `[N, d] · [d, V]`: tied heads read the embedding transposed
    const head = c.tieWordEmbeddings ? await transposed(embeddingName) : await matrix(['lm_head.weight']);
    const positionEmbedding = gpt2 ? await matrix(['transformer.wpe.weight']) : undefined;
    const finalNorm = await vector(gpt2 ? 'transformer.ln_f.weight' : 'model.norm.weight');
    const finalNormBias = gpt2 ? await vector('transformer.ln_f.bias') : undefined;
    let disposed = false;
    return {
      model,
      arena,
      location: onBackend ? 'backend' : 'arena',
      layers,
      finalNorm,
      finalNormBias,
      embedding,
      positionEmbedding,
      head,
      isCurrent: () => {
        if (disposed) return false;
        for (const [name, v] of model.params) if (v.isDisposed || snapshot.get(name) !== v.dataId) return false;
        return true;
      },
      dispose: () => {
        if (disposed) return;
        disposed = true;
        free();
      },
    };
  } catch (error) {
    free();
    throw error;
  }
}
