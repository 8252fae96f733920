import * as tf from '@tensorflow/tfjs';
import { AipoError } from '@aipo/core';
import type { DecodeKvCache, DecodeSlot } from './decode-kv-cache';
import type { DecodeArena } from './decode-simd';
import type { DecodeMatrix, DecodeWeights } from './decode-weights';

/** One token to run: it is written to `slot` at `position` and attends to positions `0..position`. */
export interface DecodeEntry {
  /** the sequence's KV storage */
  slot: DecodeSlot;
  /** position of this token (= the slot's length when it is appended, or less to overwrite) */
  position: number;
  /** token id */
  token: number;
  /** return next-token logits for this entry */
  logits: boolean;
}

export interface DecodeForwardOptions {
  weights: DecodeWeights;
  cache: DecodeKvCache;
  /**
   * Tokens of any number of sequences, each sequence's in position order: a prompt (prefill), the
   * suffix of a resumed sequence, or one sampled token per running sequence, all in one call.
   */
  entries: readonly DecodeEntry[];
  /**
   * where to write the logits when it is large enough (the result is then a view of it): a caller
   * that steps in a loop reuses one buffer instead of a fresh array per step
   */
  out?: Float32Array;
}

/**
 * Entries per pass through the layers: a long prefill runs in chunks of this many rows (in entry
 * order, which keeps causality: a chunk's keys/values are in the cache before the next chunk
 * attends to them), so the activations stay `CHUNK_ROWS × widths` whatever the prompt lengths, and
 * M = 256 keeps the matmuls efficient.
 */
const CHUNK_ROWS = 256;
/** Rows per LM-head matmul: bounds the `[rows, V]` block for large vocabularies (150k: 38 MiB). */
const LOGIT_ROWS = 64;

/** Preallocated activations of a chunk, grown to the most entries seen (nothing allocated per step). */
interface Workspace {
  rows: number;
  blocks: Array<{ index: number; floats: number }>;
  /** `[rows, d]` residual stream */
  x: number;
  /** `[rows, d]` normalised rows (the matmuls' input) */
  h: number;
  /** `[rows, (H + 2·H_kv)·hd]` */
  qkv: number;
  /** `[rows, H·hd]` */
  attended: number;
  /** `[rows, d]` a block's output before the residual add */
  projected: number;
  /** `[rows, up width]` */
  up: number;
  /** `[rows, F]` */
  activated: number;
  /** `[LOGIT_ROWS, V]` */
  logits: number;
}

const workspaces = new WeakMap<DecodeKvCache, Workspace>();

function workspaceFor(cache: DecodeKvCache, weights: DecodeWeights, rows: number): Workspace {
  const existing = workspaces.get(cache);
  if (existing !== undefined && existing.rows >= rows) return existing;
  const free = (blocks: Workspace['blocks']) => {
    for (const { index, floats } of blocks) cache.arena.free(index, floats);
  };
  if (existing !== undefined) {
    workspaces.delete(cache);
    free(existing.blocks);
  }
  const c = weights.model.config;
  const capacity = Math.min(CHUNK_ROWS, Math.max(rows, 2 * (existing?.rows ?? 0), 16));
  const blocks: Workspace['blocks'] = [];
  const block = (floats: number) => {
    const index = cache.arena.allocate(floats);
    blocks.push({ index, floats });
    return index;
  };
  const layer = weights.layers[0];
  try {
    const workspace: Workspace = {
      rows: capacity,
      blocks,
      x: block(capacity * c.hiddenSize),
      h: block(capacity * c.hiddenSize),
      qkv: block(capacity * (c.numHeads + 2 * c.numKvHeads) * c.headDim),
      attended: block(capacity * c.numHeads * c.headDim),
      projected: block(capacity * c.hiddenSize),
      up: block(capacity * (layer?.up.cols ?? 1)),
      activated: block(capacity * (layer?.down.rows ?? 1)),
      logits: block(LOGIT_ROWS * c.vocabSize),
    };
    workspaces.set(cache, workspace);
    return workspace;
  } catch (error) {
    free(blocks);
    throw error;
  }
}

/**
 * A forward pass for decoding, specialised for small batches where every tfjs op is tiny and the
 * cost is dispatch (tfjs-perf.md Q2): it runs outside tfjs, synchronously, on one wasm memory that
 * holds the weights (copied once, decode-weights.ts), the KV cache and the step's activations
 * (preallocated, so a step allocates nothing but the returned logits, and not those given `out`).
 * Matmuls run in the native sgemm when built, else a wasm SIMD kernel; attention and SwiGLU in the wasm SIMD kernels
 * (decode-simd.ts); norms, RoPE, biases and residuals in JS over the same memory. Each row is
 * computed independently of the others, so a sequence's log-probs do not depend on its batch
 * neighbours. Returns `[entries with logits, V]` next-token logits in entry order.
 *
 * Same math as `CausalLM.forward` (HF modeling_llama.py / modeling_gpt2.py); the
 * equality is tested against a from-scratch forward pass.
 */
export function decodeForward({ weights, cache, entries, out }: DecodeForwardOptions): Float32Array {
  const c = weights.model.config;
  const N = entries.length;
  if (N === 0) return new Float32Array(0);
  if (!weights.isCurrent()) throw new AipoError({ code: 'INTERNAL', message: 'decode weights are stale (the model changed); rebuild them' });
  if (weights.arena !== cache.arena) throw new AipoError({ code: 'INTERNAL', message: "decode weights live in another arena than the KV cache (build them on the cache's arena)" });
  for (const entry of entries) {
    if (!Number.isInteger(entry.token) || entry.token < 0 || entry.token >= c.vocabSize) {
      throw new AipoError({ code: 'INVALID_ARGUMENT', message: `token id ${entry.token} is outside the vocabulary (0..${c.vocabSize - 1})` });
    }
    if (entry.position >= c.maxPositions) throw new AipoError({ code: 'INVALID_ARGUMENT', message: `position ${entry.position} is beyond the model's ${c.maxPositions}` });
    if (entry.position > entry.slot.tokens.length) {
      throw new AipoError({ code: 'INTERNAL', message: `decode entry at position ${entry.position} leaves a gap after ${entry.slot.tokens.length} cached tokens` });
    }
    cache.reserve(entry.slot, entry.position + 1);
    entry.slot.tokens.length = Math.max(entry.slot.tokens.length, entry.position + 1);
    entry.slot.tokens[entry.position] = entry.token;
  }
  let wanted = 0;
  for (const entry of entries) if (entry.logits) wanted++;
  const logits = out !== undefined && out.length >= wanted * c.vocabSize ? out.subarray(0, wanted * c.vocabSize) : new Float32Array(wanted * c.vocabSize);
  const workspace = workspaceFor(cache, weights, N);
  // no allocation in the arena below this line: the view stays valid
  const heap = cache.arena.heap();
  let written = 0;
  for (let start = 0; start < N; start += CHUNK_ROWS) {
    const chunk = N <= CHUNK_ROWS ? entries : entries.slice(start, start + CHUNK_ROWS);
    written = forwardChunk({ heap, weights, cache, workspace, entries: chunk, logits, written });
  }
  return logits;
}

/**
 * The layers for up to CHUNK_ROWS entries, then the final norm and LM head for those that want
 * logits, written to `logits` from row `written` on; returns the rows written so far.
 */
function forwardChunk(options: { heap: Float32Array; weights: DecodeWeights; cache: DecodeKvCache; workspace: Workspace; entries: readonly DecodeEntry[]; logits: Float32Array; written: number }): number {
  const { heap, weights, cache, workspace: w, entries, logits } = options;
  const c = weights.model.config;
  const arena = cache.arena;
  const N = entries.length;
  const d = c.hiddenSize;
  const V = c.vocabSize;
  embed({ heap, weights, entries, out: w.x });
  const matmul = (input: number, rows: number, matrix: DecodeMatrix, out: number) =>
    matrix.backend === undefined ? arena.matmul({ a: input, b: matrix.index, c: out, m: rows, k: matrix.rows, n: matrix.cols }) : backendMatMul({ heap, input, rows, matrix, out });
  for (const [index, layer] of weights.layers.entries()) {
    normalize({ heap, x: w.x, rows: N, weight: layer.norm1, bias: layer.norm1Bias, config: c, out: w.h });
    matmul(w.h, N, layer.qkv, w.qkv);
    addBias({ heap, x: w.qkv, rows: N, bias: layer.qkvBias });
    attend({ heap, qkv: w.qkv, entries, layer: index, weights, cache, out: w.attended });
    matmul(w.attended, N, layer.out, w.projected);
    addBias({ heap, x: w.projected, rows: N, bias: layer.outBias });
    addInto(heap, w.x, w.projected, N * d);
    normalize({ heap, x: w.x, rows: N, weight: layer.norm2, bias: layer.norm2Bias, config: c, out: w.h });
    matmul(w.h, N, layer.up, w.up);
    addBias({ heap, x: w.up, rows: N, bias: layer.upBias });
    if (c.family === 'gpt2') geluTanh({ heap, x: w.up, count: N * layer.up.cols, out: w.activated });
    else swiGlu({ heap, gateUp: w.up, rows: N, width: layer.down.rows, arena, out: w.activated });
    matmul(w.activated, N, layer.down, w.projected);
    addBias({ heap, x: w.projected, rows: N, bias: layer.downBias });
    addInto(heap, w.x, w.projected, N * d);
  }
  // the rows that want logits, gathered (in entry order) into `projected`, normalised into `h`
  let wanted = 0;
  for (let n = 0; n < N; n++) {
    if (!entries[n]!.logits) continue;
    heap.copyWithin(w.projected + wanted * d, w.x + n * d, w.x + (n + 1) * d);
    wanted++;
  }
  normalize({ heap, x: w.projected, rows: wanted, weight: weights.finalNorm, bias: weights.finalNormBias, config: c, out: w.h });
  let written = options.written;
  for (let row = 0; row < wanted; row += LOGIT_ROWS) {
    const rows = Math.min(LOGIT_ROWS, wanted - row);
    matmul(w.h + row * d, rows, weights.head, w.logits);
    logits.set(heap.subarray(w.logits, w.logits + rows * V), written * V);
    written += rows;
  }
  return written;
}

/**
 * `[rows, k] · W` for a matrix left on the tfjs backend (a model too large for the arena): one
 * backend matmul and one read back, the arena's rows copied in (tfjs may keep a reference to the
 * values it is given) and the product written to `out`.
 */
function backendMatMul({ heap, input, rows, matrix, out }: { heap: Float32Array; input: number; rows: number; matrix: DecodeMatrix; out: number }): void {
  const { tensor, transposed } = matrix.backend!;
  const product = tf.tidy(() => tf.matMul(tf.tensor2d(heap.slice(input, input + rows * matrix.rows), [rows, matrix.rows]), tensor, false, transposed));
  try {
    heap.set(product.dataSync() as Float32Array, out);
  } finally {
    product.dispose();
  }
}

/** `[N, d]` token (+ learned position) embedding rows, copied within the arena (or gathered on the backend). */
function embed({ heap, weights, entries, out }: { heap: Float32Array; weights: DecodeWeights; entries: readonly DecodeEntry[]; out: number }): void {
  const d = weights.embedding.cols;
  const positions = weights.positionEmbedding;
  if (weights.embedding.backend !== undefined) {
    const rows = tf.tidy(() => {
      const tokens = tf.gather(weights.embedding.backend!.tensor, Int32Array.from(entries, (entry) => entry.token));
      if (positions?.backend === undefined) return tokens;
      return tokens.add(tf.gather(positions.backend.tensor, Int32Array.from(entries, (entry) => entry.position)));
    });
    try {
      heap.set(rows.dataSync() as Float32Array, out);
    } finally {
      rows.dispose();
    }
    return;
  }
  for (let n = 0; n < entries.length; n++) {
    const entry = entries[n]!;
    const row = weights.embedding.index + entry.token * d;
    heap.copyWithin(out + n * d, row, row + d);
    if (positions === undefined) continue;
    const position = positions.index + entry.position * d;
    for (let i = 0; i < d; i++) heap[out + n * d + i] = heap[out + n * d + i]! + heap[position + i]!;
  }
}

function addBias({ heap, x, rows, bias }: { heap: Float32Array; x: number; rows: number; bias: Float32Array | undefined }): void {
  if (bias === undefined) return;
  const width = bias.length;
  for (let r = 0; r < rows; r++) {
    const base = x + r * width;
    for (let i = 0; i < width; i++) heap[base + i] = heap[base + i]! + bias[i]!;
  }
}

/** The residual add `x += y` over `count` floats. */
function addInto(heap: Float32Array, x: number, y: number, count: number): void {
  for (let i = 0; i < count; i++) heap[x + i] = heap[x + i]! + heap[y + i]!;
}

/** RMSNorm (llama) or LayerNorm (gpt2) of each row at `x`, into `out`. */
function normalize(options: { heap: Float32Array; x: number; rows: number; weight: Float32Array; bias: Float32Array | undefined; config: { family: 'llama' | 'gpt2'; normEps: number }; out: number }): void {
  const { heap, x, rows, weight, bias, config: c, out } = options;
  const d = weight.length;
  for (let r = 0; r < rows; r++) {
    const base = x + r * d;
    const target = out + r * d;
    let mean = 0;
    if (c.family === 'gpt2') {
      for (let i = 0; i < d; i++) mean += heap[base + i]!;
      mean /= d;
    }
    let square = 0;
    for (let i = 0; i < d; i++) {
      const centred = heap[base + i]! - mean;
      square += centred * centred;
    }
    const scale = 1 / Math.sqrt(square / d + c.normEps);
    for (let i = 0; i < d; i++) heap[target + i] = (heap[base + i]! - mean) * scale * weight[i]! + (bias === undefined ? 0 : bias[i]!);
  }
}

/**
 * SwiGLU (Shazeer 2020) on fused `[N, gate | up]` rows: silu(gate) · up; in the SIMD kernel when
 * the width allows (JS `Math.exp` is an out-of-line call per element).
 */
function swiGlu({ heap, gateUp, rows, width, arena, out }: { heap: Float32Array; gateUp: number; rows: number; width: number; arena: DecodeArena; out: number }): void {
  if (width % 4 === 0 && arena.kernels !== undefined) {
    for (let r = 0; r < rows; r++) arena.kernels.silu((gateUp + r * 2 * width) * 4, (gateUp + r * 2 * width + width) * 4, (out + r * width) * 4, width / 4);
    return;
  }
  for (let r = 0; r < rows; r++) {
    const base = gateUp + r * 2 * width;
    for (let i = 0; i < width; i++) {
      const gate = heap[base + i]!;
      heap[out + r * width + i] = (gate / (1 + Math.exp(-gate))) * heap[base + width + i]!;
    }
  }
}

/** GPT-2's "gelu_new": 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))). */
function geluTanh({ heap, x, count, out }: { heap: Float32Array; x: number; count: number; out: number }): void {
  const k = Math.sqrt(2 / Math.PI);
  for (let i = 0; i < count; i++) {
    const v = heap[x + i]!;
    heap[out + i] = 0.5 * v * (1 + Math.tanh(k * (v + 0.044715 * v * v * v)));
  }
}

const ropeTables = new WeakMap<DecodeWeights, { cos: Float32Array; sin: Float32Array }>();

/** cos/sin `[maxPositions, hd/2]` as float32, like CausalLM's tables (HF rotate-half RoPE). */
function ropeFor(weights: DecodeWeights): { cos: Float32Array; sin: Float32Array } {
  let tables = ropeTables.get(weights);
  if (tables === undefined) {
    const c = weights.model.config;
    const half = c.headDim / 2;
    const cos = new Float32Array(c.maxPositions * half);
    const sin = new Float32Array(c.maxPositions * half);
    for (let position = 0; position < c.maxPositions; position++) {
      for (let i = 0; i < half; i++) {
        const angle = position * c.ropeTheta ** ((-2 * i) / c.headDim);
        cos[position * half + i] = Math.cos(angle);
        sin[position * half + i] = Math.sin(angle);
      }
    }
    tables = { cos, sin };
    ropeTables.set(weights, tables);
  }
  return tables;
}

/** Rotate `hd` values at `offset` in place (Su et al. 2021, HF rotate_half: [x₁, x₂] → x·cos + [−x₂, x₁]·sin). */
function rotate(x: Float32Array, offset: number, half: number, cos: Float32Array, sin: Float32Array, table: number): void {
  for (let i = 0; i < half; i++) {
    const a = x[offset + i]!;
    const b = x[offset + half + i]!;
    const co = cos[table + i]!;
    const si = sin[table + i]!;
    x[offset + i] = a * co - b * si;
    x[offset + half + i] = b * co + a * si;
  }
}

/**
 * Write each entry's keys/values into its slot, then causal attention of its queries over the
 * slot's positions `0..position` (grouped-query: head h reads kv head ⌊h / (H / H_kv)⌋, as HF
 * repeat_kv). One SIMD kernel call per token runs dots, softmax and the weighted sum of every head
 * when the head width allows (decode-simd.ts), else plain JS. Writes `[N, H·hd]` at `out`.
 */
function attend(options: { heap: Float32Array; qkv: number; entries: readonly DecodeEntry[]; layer: number; weights: DecodeWeights; cache: DecodeKvCache; out: number }): void {
  const { heap, qkv, entries, layer, weights, cache, out } = options;
  const c = weights.model.config;
  const H = c.numHeads;
  const Hkv = c.numKvHeads;
  const hd = c.headDim;
  const width = (H + 2 * Hkv) * hd;
  const kvRow = Hkv * hd;
  const rope = c.family === 'llama' ? ropeFor(weights) : undefined;
  const half = hd / 2;
  const scale = 1 / Math.sqrt(hd);
  for (let n = 0; n < entries.length; n++) {
    const entry = entries[n]!;
    const base = qkv + n * width;
    if (rope !== undefined) {
      const table = entry.position * half;
      for (let head = 0; head < H + Hkv; head++) rotate(heap, base + head * hd, half, rope.cos, rope.sin, table);
    }
    // queries scaled by 1/√hd in place (the scores need them once)
    for (let i = 0; i < H * hd; i++) heap[base + i] = heap[base + i]! * scale;
    const keys = entry.slot.keys[layer]!;
    const capacity = entry.slot.capacity;
    for (let r = 0; r < kvRow; r++) heap[keys + r * capacity + entry.position] = heap[base + H * hd + r]!;
    heap.copyWithin(entry.slot.values[layer]! + entry.position * kvRow, base + (H + Hkv) * hd, base + width);
  }
  const groups = H / Hkv;
  const kernels = hd % 4 === 0 ? cache.arena.kernels : undefined;
  const { scores } = cache.scratch;
  for (let n = 0; n < entries.length; n++) {
    const entry = entries[n]!;
    const S = entry.position + 1;
    const capacity = entry.slot.capacity;
    const q = qkv + n * width;
    if (kernels !== undefined) {
      // every head of this token in one call: dots → softmax → weighted sum (decode-simd.ts)
      kernels.attend(q * 4, entry.slot.keys[layer]! * 4, entry.slot.values[layer]! * 4, S, capacity, hd, H, groups, kvRow, hd % 16 === 0 ? 1 : 0, scores * 4, (out + n * H * hd) * 4);
      continue;
    }
    // plain JS (engines without wasm SIMD, or a head width that is not a multiple of 4)
    for (let head = 0; head < H; head++) {
      const query = q + head * hd;
      const kvOffset = Math.floor(head / groups) * hd;
      const keys = entry.slot.keys[layer]! + kvOffset * capacity;
      const values = entry.slot.values[layer]! + kvOffset;
      let max = -Infinity;
      for (let s = 0; s < S; s++) {
        let dot = 0;
        for (let i = 0; i < hd; i++) dot += heap[query + i]! * heap[keys + i * capacity + s]!;
        heap[scores + s] = dot;
        if (dot > max) max = dot;
      }
      let total = 0;
      for (let s = 0; s < S; s++) {
        const e = Math.exp(heap[scores + s]! - max);
        heap[scores + s] = e;
        total += e;
      }
      const o = out + (n * H + head) * hd;
      heap.fill(0, o, o + hd);
      for (let s = 0; s < S; s++) {
        const p = heap[scores + s]! / total;
        for (let i = 0; i < hd; i++) heap[o + i] = heap[o + i]! + p * heap[values + s * kvRow + i]!;
      }
    }
  }
}
