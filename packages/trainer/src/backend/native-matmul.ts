import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as tf from '@tensorflow/tfjs';

/**
 * The optional native matmul (packages/trainer/native): a blocked AVX2/FMA sgemm (Goto & van de
 * Geijn 2008) that the wasm backend's `BatchMatMul` calls directly on the wasm heap. tfjs-perf.md
 * measured the patched step at ~75% BatchMatMul, and wasm SIMD (128-bit, no FMA) caps XNNPACK near
 * 30–37 GFLOP/s; 256-bit FMA doubles the arithmetic per instruction. Built by `native/build.mjs`
 * when a C++ compiler and Node's headers exist; everything works without it.
 */
export interface NativeSgemm {
  /** CPU has AVX2 and FMA */
  supported(): boolean;
  /** C[b] = op(A[b])·op(B[b]) in place; a batch stride of 0 broadcasts that operand */
  sgemm(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    batch: number,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
    batchStrideA: number,
    batchStrideB: number,
  ): void;
  /**
   * One AdamW update of a parameter into `next*` (same float32 operation order as the op path);
   * `hyper` = [lr, β1, 1−β1, β2, 1−β2, ε, weightDecay, scale, 1−β1ᵗ, 1−β2ᵗ]
   */
  adamw(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, nextP: Float32Array, nextM: Float32Array, nextV: Float32Array, hyper: number[]): void;
}

export type NativeMatMulStatus = { available: true; addon: NativeSgemm; path: string } | { available: false; reason: string };

let cached: NativeMatMulStatus | undefined;

// src/backend/ (tests, @aipo/source) and dist/ (the built package) sit at different depths.
const candidates = ['../../native/build/aipo-sgemm.node', '../native/build/aipo-sgemm.node'].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));

/** Find and load the addon once; `AIPO_NATIVE_MATMUL=0` turns it off. */
export function loadNativeMatMul(): NativeMatMulStatus {
  if (cached !== undefined) return cached;
  cached = probe();
  return cached;
}

function probe(): NativeMatMulStatus {
  if (process.env.AIPO_NATIVE_MATMUL === '0') return { available: false, reason: 'disabled by AIPO_NATIVE_MATMUL=0' };
  if (process.arch !== 'x64') return { available: false, reason: `no native kernel for ${process.arch}` };
  const path = candidates.find((candidate) => existsSync(candidate));
  if (path === undefined) return { available: false, reason: 'addon not built (node native/build.mjs needs a C++ compiler)' };
  try {
    const addon = createRequire(import.meta.url)(path) as NativeSgemm;
    if (!addon.supported()) return { available: false, reason: 'CPU lacks AVX2/FMA' };
    return { available: true, addon, path };
  } catch (error) {
    return { available: false, reason: `addon failed to load: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** The parts of tfjs-backend-wasm's backend the native kernels use. */
export interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray;
}

type Kernel = (args: { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs: Record<string, unknown> }) => tf.TensorInfo;

const product = (shape: number[]) => shape.reduce((x, y) => x * y, 1);

/**
 * `BatchMatMul` for the wasm backend through the native sgemm: transposes are read through strides
 * during packing (no transpose pass) and a rank-2 or batch-1 operand is broadcast by a zero batch
 * stride. Cases it does not cover (non-float32, batch shapes that broadcast partially) go to
 * `fallback`.
 */
export function nativeBatchMatMul({ addon, fallback }: { addon: NativeSgemm; fallback: Kernel }): Kernel {
  return (args) => {
    const { inputs, attrs } = args;
    const backend = args.backend as WasmBackend;
    const a = inputs.a!;
    const b = inputs.b!;
    const transposeA = attrs.transposeA === true;
    const transposeB = attrs.transposeB === true;
    const rankA = a.shape.length;
    const rankB = b.shape.length;
    const batchShapeA = a.shape.slice(0, -2);
    const batchShapeB = b.shape.slice(0, -2);
    const batchA = product(batchShapeA);
    const batchB = product(batchShapeB);
    const M = transposeA ? a.shape[rankA - 1]! : a.shape[rankA - 2]!;
    const K = transposeA ? a.shape[rankA - 2]! : a.shape[rankA - 1]!;
    const KB = transposeB ? b.shape[rankB - 1]! : b.shape[rankB - 2]!;
    const N = transposeB ? b.shape[rankB - 2]! : b.shape[rankB - 1]!;
    const sameBatch = batchA === batchB && batchShapeA.join() === batchShapeB.join();
    const broadcast = batchA === 1 || batchB === 1;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || K !== KB || !(sameBatch || broadcast)) return fallback(args);
    // tfjs' rule (broadcast_util): batch dims right-aligned, each the max of the two (one side is all 1s here).
    const rank = Math.max(batchShapeA.length, batchShapeB.length);
    const batchShape = Array.from({ length: rank }, (_, i) => Math.max(batchShapeA[i - rank + batchShapeA.length] ?? 1, batchShapeB[i - rank + batchShapeB.length] ?? 1));
    const out = backend.makeOutput([...batchShape, M, N], 'float32');
    // Views are taken after the allocation above: growing the wasm memory detaches older views.
    addon.sgemm(
      backend.typedArrayFromHeap(a) as Float32Array,
      backend.typedArrayFromHeap(b) as Float32Array,
      backend.typedArrayFromHeap(out) as Float32Array,
      product(batchShape),
      M,
      N,
      K,
      transposeA,
      transposeB,
      batchA === 1 ? 0 : M * K,
      batchB === 1 ? 0 : K * N,
    );
    return out;
  };
}

// Epilogues of tfjs' fused activations (tfjs-core fused_util applyActivation), applied in place.
const activations: Record<string, ((x: number, alpha: number) => number) | undefined> = {
  linear: (x) => x,
  relu: (x) => Math.max(x, 0),
  relu6: (x) => Math.min(Math.max(x, 0), 6),
  leakyrelu: (x, alpha) => (x < 0 ? alpha * x : x),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  elu: (x) => (x < 0 ? Math.exp(x) - 1 : x),
};

/**
 * `_FusedMatMul` (tf.fused.matMul: product + rank-1 bias + activation) through the native sgemm,
 * with the bias and activation applied in one pass over the fresh output. PReLU and other bias
 * shapes go to `fallback` (the stock kernel, which also accepts only rank-1 biases).
 */
export function nativeFusedMatMul({ addon, fallback }: { addon: NativeSgemm; fallback: Kernel }): Kernel {
  const product = nativeBatchMatMul({ addon, fallback: () => undefined as unknown as tf.TensorInfo });
  return (args) => {
    const { inputs, attrs } = args;
    const backend = args.backend as WasmBackend;
    const { a, b, bias, preluActivationWeights } = inputs;
    const activation = activations[(attrs.activation as string | undefined) ?? 'linear'];
    const alpha = (attrs.leakyreluAlpha as number | undefined) ?? 0.2;
    const N = attrs.transposeB === true ? b!.shape[b!.shape.length - 2]! : b!.shape[b!.shape.length - 1]!;
    const biasUsable = bias === undefined || (bias.shape.length === 1 && (bias.shape[0] === N || bias.shape[0] === 1) && bias.dtype === 'float32');
    if (activation === undefined || preluActivationWeights !== undefined || !biasUsable) return fallback(args);
    const out = product({ inputs: { a: a!, b: b! }, backend: args.backend, attrs: { transposeA: attrs.transposeA, transposeB: attrs.transposeB } });
    if (out === undefined) return fallback(args);
    const values = backend.typedArrayFromHeap(out) as Float32Array;
    const biasValues = bias === undefined ? undefined : (backend.typedArrayFromHeap(bias) as Float32Array);
    const width = biasValues?.length ?? 1;
    for (let i = 0; i < values.length; i++) {
      const x = biasValues === undefined ? values[i]! : values[i]! + biasValues[width === 1 ? 0 : i % N]!;
      values[i] = activation(x, alpha);
    }
    return out;
  };
}
