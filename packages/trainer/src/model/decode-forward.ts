import * as tf from '@tensorflow/tfjs';
import { AipoError } from '@aipo/core';
import type { DecodeKvCache, DecodeSlot } from './decode-kv-cache';
import type { DecodeArena } from './decode-simd';
import type { DecodeWeights } from './decode-weights';

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
}

/**
 * A forward pass for decoding, specialised for small batches where every tfjs op is tiny and the
 * cost is dispatch (tfjs-perf.md Q2): per block only the four (or, unfused, seven) matmuls run on
 * the backend; norms, RoPE and biases run in JS on the rows just read back, and attention over the
 * slot's preallocated keys/values and the SwiGLU in wasm SIMD kernels (decode-simd.ts). Each row
 * is computed independently of the others, so a sequence's log-probs do not depend on its batch
 * neighbours. Returns `[entries with logits, V]` next-token logits in entry order.
 *
 * Same math as `CausalLM.forward` (HF modeling_llama.py / modeling_gpt2.py); the
 * equality is tested against a from-scratch forward pass.
 */
export async function decodeForward({ weights, cache, entries }: DecodeForwardOptions): Promise<Float32Array> {
  const c = weights.model.config;
  const N = entries.length;
  if (N === 0) return new Float32Array(0);
  if (!weights.isCurrent()) throw new AipoError({ code: 'INTERNAL', message: 'decode weights are stale (the model changed); rebuild them' });
  for (const entry of entries) {
    if (entry.position >= c.maxPositions) throw new AipoError({ code: 'INVALID_ARGUMENT', message: `position ${entry.position} is beyond the model's ${c.maxPositions}` });
    if (entry.position > entry.slot.tokens.length) {
      throw new AipoError({ code: 'INTERNAL', message: `decode entry at position ${entry.position} leaves a gap after ${entry.slot.tokens.length} cached tokens` });
    }
    cache.reserve(entry.slot, entry.position + 1);
    entry.slot.tokens.length = Math.max(entry.slot.tokens.length, entry.position + 1);
    entry.slot.tokens[entry.position] = entry.token;
  }
  const d = c.hiddenSize;
  const x = await embed(weights, entries);
  // reused by every block (matmul copies its input to the backend and releases it before returning)
  const h = new Float32Array(N * d);
  const attended = new Float32Array(N * c.numHeads * c.headDim);
  for (const [index, layer] of weights.layers.entries()) {
    normalize({ x, rows: N, weight: layer.norm1, bias: layer.norm1Bias, config: c, out: h });
    const qkv = await matmul(h, N, layer.qkv);
    addBias(qkv, N, layer.qkvBias);
    attend({ qkv, entries, layer: index, weights, cache, out: attended });
    const projected = await matmul(attended, N, [layer.out]);
    addBias(projected, N, layer.outBias);
    for (let i = 0; i < N * d; i++) x[i] = x[i]! + projected[i]!;
    normalize({ x, rows: N, weight: layer.norm2, bias: layer.norm2Bias, config: c, out: h });
    const up = await matmul(h, N, layer.up);
    addBias(up, N, layer.upBias);
    const activated = c.family === 'gpt2' ? geluTanh(up) : swiGlu(up, N, c.intermediateSize, cache.arena);
    const down = await matmul(activated, N, [layer.down]);
    addBias(down, N, layer.downBias);
    for (let i = 0; i < N * d; i++) x[i] = x[i]! + down[i]!;
  }
  const wanted = entries.flatMap((entry, n) => (entry.logits ? [n] : []));
  const last = new Float32Array(wanted.length * d);
  wanted.forEach((n, row) => last.set(x.subarray(n * d, (n + 1) * d), row * d));
  const final = normalize({ x: last, rows: wanted.length, weight: weights.finalNorm, bias: weights.finalNormBias, config: c, out: new Float32Array(last.length) });
  return wanted.length === 0 ? new Float32Array(0) : matmul(final, wanted.length, [weights.head]);
}

/** `[N, d]` token (+ learned position) embeddings, gathered on the backend and read once. */
async function embed(weights: DecodeWeights, entries: readonly DecodeEntry[]): Promise<Float32Array> {
  const tokens = tf.tensor1d(entries.map((entry) => entry.token), 'int32');
  const positions = tf.tensor1d(entries.map((entry) => entry.position), 'int32');
  const rows = tf.tidy(() => {
    const tokenRows = tf.gather(weights.embedding, tokens);
    return weights.positionEmbedding === undefined ? tokenRows : tf.add(tokenRows, tf.gather(weights.positionEmbedding, positions));
  });
  try {
    return new Float32Array((await rows.data()) as Float32Array);
  } finally {
    tokens.dispose();
    positions.dispose();
    rows.dispose();
  }
}

/** `input [rows, k] · W` for W = the column blocks `parts` (concatenated per row). */
async function matmul(input: Float32Array, rows: number, parts: readonly tf.Tensor2D[]): Promise<Float32Array> {
  const k = parts[0]!.shape[0];
  const a = tf.tensor2d(input, [rows, k]);
  try {
    if (parts.length === 1) {
      const product = tf.matMul(a, parts[0]!);
      try {
        return (await product.data()) as Float32Array;
      } finally {
        product.dispose();
      }
    }
    const products = parts.map((part) => tf.matMul(a, part));
    try {
      const widths = parts.map((part) => part.shape[1]);
      const width = widths.reduce((sum, w) => sum + w, 0);
      const out = new Float32Array(rows * width);
      let column = 0;
      for (const [index, product] of products.entries()) {
        const data = (await product.data()) as Float32Array;
        const w = widths[index]!;
        for (let r = 0; r < rows; r++) out.set(data.subarray(r * w, (r + 1) * w), r * width + column);
        column += w;
      }
      return out;
    } finally {
      for (const product of products) product.dispose();
    }
  } finally {
    a.dispose();
  }
}

function addBias(x: Float32Array, rows: number, bias: Float32Array | undefined): void {
  if (bias === undefined) return;
  const width = bias.length;
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    for (let i = 0; i < width; i++) x[base + i] = x[base + i]! + bias[i]!;
  }
}

/** RMSNorm (llama) or LayerNorm (gpt2) of each row of `x`, into `out`. */
function normalize(options: { x: Float32Array; rows: number; weight: Float32Array; bias: Float32Array | undefined; config: { family: 'llama' | 'gpt2'; normEps: number }; out: Float32Array }): Float32Array {
  const { x, rows, weight, bias, config: c, out } = options;
  const d = weight.length;
  for (let r = 0; r < rows; r++) {
    const base = r * d;
    let mean = 0;
    if (c.family === 'gpt2') {
      for (let i = 0; i < d; i++) mean += x[base + i]!;
      mean /= d;
    }
    let square = 0;
    for (let i = 0; i < d; i++) {
      const centred = x[base + i]! - mean;
      square += centred * centred;
    }
    const scale = 1 / Math.sqrt(square / d + c.normEps);
    for (let i = 0; i < d; i++) out[base + i] = (x[base + i]! - mean) * scale * weight[i]! + (bias === undefined ? 0 : bias[i]!);
  }
  return out;
}

/**
 * SwiGLU (Shazeer 2020) on fused `[N, gate | up]` rows: silu(gate) · up; in the SIMD kernel when
 * the width allows (JS `Math.exp` is an out-of-line call per element).
 */
function swiGlu(gateUp: Float32Array, rows: number, width: number, arena: DecodeArena): Float32Array {
  if (width % 4 === 0 && arena.kernels !== undefined) {
    const input = arena.allocate(rows * 2 * width);
    const output = arena.allocate(rows * width);
    const heap = arena.heap();
    heap.set(gateUp, input);
    for (let r = 0; r < rows; r++) arena.kernels.silu((input + r * 2 * width) * 4, (input + r * 2 * width + width) * 4, (output + r * width) * 4, width / 4);
    const activated = heap.slice(output, output + rows * width);
    arena.free(input, rows * 2 * width);
    arena.free(output, rows * width);
    return activated;
  }
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const base = r * 2 * width;
    for (let i = 0; i < width; i++) {
      const gate = gateUp[base + i]!;
      out[r * width + i] = (gate / (1 + Math.exp(-gate))) * gateUp[base + width + i]!;
    }
  }
  return out;
}

/** GPT-2's "gelu_new": 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))). */
function geluTanh(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  const k = Math.sqrt(2 / Math.PI);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    out[i] = 0.5 * v * (1 + Math.tanh(k * (v + 0.044715 * v * v * v)));
  }
  return out;
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
 * repeat_kv). Dot products and the weighted sum of values run in the SIMD kernels when the head
 * width allows (decode-simd.ts), the softmax in JS. Returns `[N, H·hd]`.
 */
function attend(options: { qkv: Float32Array; entries: readonly DecodeEntry[]; layer: number; weights: DecodeWeights; cache: DecodeKvCache; out: Float32Array }): Float32Array {
  const { qkv, entries, layer, weights, cache, out } = options;
  const c = weights.model.config;
  const H = c.numHeads;
  const Hkv = c.numKvHeads;
  const hd = c.headDim;
  const width = (H + 2 * Hkv) * hd;
  const kvRow = Hkv * hd;
  const rope = c.family === 'llama' ? ropeFor(weights) : undefined;
  const half = hd / 2;
  const heap = cache.arena.heap();
  for (let n = 0; n < entries.length; n++) {
    const entry = entries[n]!;
    const base = n * width;
    if (rope !== undefined) {
      const table = entry.position * half;
      for (let head = 0; head < H + Hkv; head++) rotate(qkv, base + head * hd, half, rope.cos, rope.sin, table);
    }
    const keys = entry.slot.keys[layer]!;
    const capacity = entry.slot.capacity;
    for (let r = 0; r < kvRow; r++) heap[keys + r * capacity + entry.position] = qkv[base + H * hd + r]!;
    heap.set(qkv.subarray(base + (H + Hkv) * hd, base + width), entry.slot.values[layer]! + entry.position * kvRow);
  }
  const scale = 1 / Math.sqrt(hd);
  const groups = H / Hkv;
  const kernels = hd % 4 === 0 ? cache.arena.kernels : undefined;
  const { query, scores, output } = cache.scratch;
  for (let n = 0; n < entries.length; n++) {
    const entry = entries[n]!;
    const S = entry.position + 1;
    const capacity = entry.slot.capacity;
    if (kernels !== undefined) {
      // every head of this token in one call: dots → softmax → weighted sum (decode-simd.ts)
      const q = n * width;
      for (let i = 0; i < H * hd; i++) heap[query + i] = qkv[q + i]! * scale;
      kernels.attend(query * 4, entry.slot.keys[layer]! * 4, entry.slot.values[layer]! * 4, S, capacity, hd, H, groups, kvRow, hd % 16 === 0 ? 1 : 0, scores * 4, output * 4);
      out.set(heap.subarray(output, output + H * hd), n * H * hd);
      continue;
    }
    // plain JS (engines without wasm SIMD, or a head width that is not a multiple of 4)
    for (let head = 0; head < H; head++) {
      const q = n * width + head * hd;
      const kvOffset = Math.floor(head / groups) * hd;
      const keys = entry.slot.keys[layer]! + kvOffset * capacity;
      const values = entry.slot.values[layer]! + kvOffset;
      let max = -Infinity;
      for (let s = 0; s < S; s++) {
        let dot = 0;
        for (let i = 0; i < hd; i++) dot += qkv[q + i]! * scale * heap[keys + i * capacity + s]!;
        heap[scores + s] = dot;
        if (dot > max) max = dot;
      }
      let total = 0;
      for (let s = 0; s < S; s++) {
        const e = Math.exp(heap[scores + s]! - max);
        heap[scores + s] = e;
        total += e;
      }
      const o = (n * H + head) * hd;
      out.fill(0, o, o + hd);
      for (let s = 0; s < S; s++) {
        const p = heap[scores + s]! / total;
        for (let i = 0; i < hd; i++) out[o + i] = out[o + i]! + p * heap[values + s * kvRow + i]!;
      }
    }
  }
  return out;
}
