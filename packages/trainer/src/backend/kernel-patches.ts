import * as tf from '@tensorflow/tfjs';
import { loadNativeMatMul, nativeBatchMatMul, nativeFusedMatMul } from './native-matmul';

/**
 * The two kernel patches of shared/reference/tfjs-perf.md ("The two wasm patches"), registered
 * through `tf.registerKernel` after the backend initialised (the stock kernels' setup must have run):
 * 1. `UnsortedSegmentSum` (the gradient of `gather`) in JS. wasm has no kernel at all; the stock cpu
 *    one is O(numSegments·N·d) and took 13 s of a 40 s step.
 * 2. wasm `BatchMatMul`: the stock kernel uses XNNPACK only without transposes and with batch 1,
 *    everything else runs a scalar loop at ~3 GFLOP/s. Transposed operands are transposed first,
 *    a shared right operand folds the batch into rows, and batched attention products call
 *    XNNPACK once per batch slice when there are ≥ 16 rows (decode steps keep the stock path).
 * 3. wasm `Identity` and same-dtype `Cast` copy the whole buffer; the cpu and webgl backends share
 *    it by reference count instead (tensors are immutable). The gradient tape calls them ~400 times
 *    per train step (≈ 30 ms of copies on the benchmark model), so wasm shares too.
 * 4. wasm `GatherV2` on axis 0 (embedding and RoPE-table lookups) as row copies on the heap: the
 *    stock kernel computes strides per element (≈ 7 ms for a [2048, 128] lookup).
 * 5. When the optional native addon is built and the CPU has AVX2/FMA, wasm `BatchMatMul` runs the
 *    native sgemm on the wasm heap instead (native-matmul.ts); the kernel of 2. stays its fallback.
 */

type Backend = {
  readSync(dataId: object): tf.TypedArray;
  disposeData(dataId: object, force?: boolean): boolean;
  makeOutput?(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.TypedArray): tf.TensorInfo;
  makeTensorInfo?(shape: number[], dtype: tf.DataType, values?: tf.TypedArray): tf.TensorInfo;
  typedArrayFromHeap?(info: tf.TensorInfo): tf.TypedArray;
  incRef?(dataId: object): void;
};

type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: Backend; attrs: Record<string, unknown> };
type Kernel = (args: KernelArgs) => tf.TensorInfo;

const patched = new Set<string>();

export interface KernelPatchOptions {
  /** replace wasm BatchMatMul (default true; false only to measure the stock kernel) */
  batchMatMul?: boolean;
  /** use the native AVX2/FMA sgemm for wasm BatchMatMul when it is built (default true) */
  nativeMatMul?: boolean;
}

export interface KernelPatchResult {
  /** names of the kernels replaced */
  replaced: string[];
  /** whether wasm BatchMatMul runs the native sgemm, and why not otherwise */
  nativeMatMul: string;
}

/** Apply the patches for `backendName` (idempotent: a second call replaces nothing). */
export function applyKernelPatches(backendName: string, options: KernelPatchOptions = {}): string[] {
  return applyKernelPatchesWithStatus(backendName, options).replaced;
}

/** `applyKernelPatches`, also saying whether the native matmul is in use. */
export function applyKernelPatchesWithStatus(backendName: string, { batchMatMul: patchMatMul = true, nativeMatMul = true }: KernelPatchOptions = {}): KernelPatchResult {
  if (patched.has(backendName)) return { replaced: [], nativeMatMul: nativeStatus.get(backendName) ?? 'not applicable' };
  patched.add(backendName);
  const replaced: string[] = [];
  let native = backendName === 'wasm' ? 'off (BatchMatMul patch disabled)' : 'not applicable';
  if (backendName === 'wasm' || backendName === 'cpu') {
    replaceKernel('UnsortedSegmentSum', backendName, unsortedSegmentSum);
    replaced.push('UnsortedSegmentSum');
  }
  const cast = tf.getKernel('Cast', 'wasm')?.kernelFunc as Kernel | undefined;
  if (backendName === 'wasm' && cast !== undefined) {
    replaceKernel('Identity', 'wasm', shareData);
    replaceKernel('Cast', 'wasm', (args) => (args.attrs.dtype === args.inputs.x!.dtype ? shareData(args) : cast(args)));
    replaced.push('Identity', 'Cast');
  }
  const gather = tf.getKernel('GatherV2', 'wasm')?.kernelFunc as Kernel | undefined;
  if (backendName === 'wasm' && gather !== undefined) {
    replaceKernel('GatherV2', 'wasm', gatherRows(gather));
    replaced.push('GatherV2');
  }
  if (backendName === 'wasm' && patchMatMul) {
    const original = tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc as Kernel | undefined;
    const transpose = tf.getKernel('Transpose', 'wasm')?.kernelFunc as Kernel | undefined;
    const reshape = tf.getKernel('Reshape', 'wasm')?.kernelFunc as Kernel | undefined;
    if (original !== undefined && transpose !== undefined && reshape !== undefined) {
      const wasmKernel = batchMatMul({ original, transpose, reshape });
      const status = nativeMatMul ? loadNativeMatMul() : { available: false as const, reason: 'disabled by option' };
      replaceKernel('BatchMatMul', 'wasm', status.available ? nativeBatchMatMul({ addon: status.addon, fallback: wasmKernel as never }) : wasmKernel);
      replaced.push('BatchMatMul');
      const fused = tf.getKernel('_FusedMatMul', 'wasm')?.kernelFunc as Kernel | undefined;
      if (status.available && fused !== undefined) {
        replaceKernel('_FusedMatMul', 'wasm', nativeFusedMatMul({ addon: status.addon, fallback: fused as never }));
        replaced.push('_FusedMatMul');
      }
      native = status.available ? 'native AVX2/FMA sgemm' : `wasm XNNPACK (native sgemm unavailable: ${status.reason})`;
    }
  }
  nativeStatus.set(backendName, native);
  return { replaced, nativeMatMul: native };
}

const nativeStatus = new Map<string, string>();

function replaceKernel(kernelName: string, backendName: string, kernelFunc: Kernel): void {
  if (tf.getKernel(kernelName, backendName) !== undefined) tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ kernelName, backendName, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}

function makeOutput(backend: Backend, shape: number[], dtype: tf.DataType, values: tf.TypedArray): tf.TensorInfo {
  // cpu: makeTensorInfo(shape, dtype, values) (its makeOutput takes other arguments); wasm: makeOutput.
  if (backend.makeTensorInfo !== undefined) return backend.makeTensorInfo(shape, dtype, values);
  return backend.makeOutput!(shape, dtype, undefined, values);
}

function shareData({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const x = inputs.x!;
  backend.incRef!(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

function unsortedSegmentSum({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const x = inputs.x!;
  const segmentIds = inputs.segmentIds!;
  const numSegments = attrs.numSegments as number;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
  const inner = rows === 0 ? 0 : x.shape.reduce((a, b) => a * b, 1) / rows;
  let values: tf.TypedArray;
  let ids: tf.TypedArray;
  let out: tf.TypedArray;
  let result: tf.TensorInfo | undefined;
  if (backend.typedArrayFromHeap !== undefined && backend.makeOutput !== undefined) {
    // wasm: read and write the heap in place (views taken after the allocation, which may grow it)
    result = backend.makeOutput(outShape, x.dtype);
    values = backend.typedArrayFromHeap(x);
    ids = backend.typedArrayFromHeap(segmentIds);
    out = backend.typedArrayFromHeap(result);
    out.fill(0);
  } else {
    values = backend.readSync(x.dataId);
    ids = backend.readSync(segmentIds.dataId);
    out = x.dtype === 'int32' ? new Int32Array(numSegments * inner) : new Float32Array(numSegments * inner);
  }
  for (let i = 0; i < rows; i++) {
    const segment = ids[i]!;
    if (segment < 0 || segment >= numSegments) continue;
    const source = i * inner;
    const target = segment * inner;
    for (let j = 0; j < inner; j++) out[target + j]! += values[source + j]!;
  }
  return result ?? makeOutput(backend, outShape, x.dtype, out);
}

function gatherRows(fallback: Kernel): Kernel {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x!;
    const indices = inputs.indices!;
    const rank = x.shape.length;
    const axis = ((attrs.axis as number) + rank) % rank;
    if (axis !== 0 || ((attrs.batchDims as number | undefined) ?? 0) !== 0 || (x.dtype !== 'float32' && x.dtype !== 'int32') || rank === 0) return fallback(args);
    const rows = x.shape[0]!;
    const inner = x.shape.slice(1).reduce((a, b) => a * b, 1);
    const count = indices.shape.reduce((a, b) => a * b, 1);
    for (const index of backend.typedArrayFromHeap!(indices)) {
      // the stock kernel's check and message (util.assert in tfjs-backend-wasm GatherV2)
      if (!(index >= 0 && index <= rows - 1)) throw new Error(`GatherV2: the index value ${index} is not in [0, ${rows - 1}]`);
    }
    const out = backend.makeOutput!([...indices.shape, ...x.shape.slice(1)], x.dtype);
    const source = backend.typedArrayFromHeap!(x);
    const ids = backend.typedArrayFromHeap!(indices);
    const target = backend.typedArrayFromHeap!(out);
    for (let i = 0; i < count; i++) target.set(source.subarray(ids[i]! * inner, (ids[i]! + 1) * inner), i * inner);
    return out;
  };
}

function batchMatMul({ original, transpose, reshape }: { original: Kernel; transpose: Kernel; reshape: Kernel }): Kernel {
  return ({ inputs, backend, attrs }) => {
    let a = inputs.a!;
    let b = inputs.b!;
    const temporaries: tf.TensorInfo[] = [];
    const swapLast = (t: tf.TensorInfo) => {
      const perm = t.shape.map((_, i) => i);
      const n = perm.length;
      [perm[n - 2], perm[n - 1]] = [perm[n - 1]!, perm[n - 2]!];
      const out = transpose({ inputs: { x: t }, backend, attrs: { perm } });
      temporaries.push(out);
      return out;
    };
    const view = (t: tf.TensorInfo, shape: number[]) => {
      const out = reshape({ inputs: { x: t }, backend, attrs: { shape } });
      temporaries.push(out);
      return out;
    };
    try {
      const rowsA = attrs.transposeA === true ? a.shape[a.shape.length - 1]! : a.shape[a.shape.length - 2]!;
      const batchOf = (t: tf.TensorInfo) => t.shape.slice(0, -2).reduce((x, y) => x * y, 1);
      if (batchOf(a) > 1 && batchOf(b) > 1 && rowsA < 16) {
        // Decode-time attention (one query row): transposing the whole KV cache would cost more
        // than the stock kernel's loop saves.
        return original({ inputs: { a, b }, backend, attrs });
      }
      if (attrs.transposeA === true) a = swapLast(a);
      if (attrs.transposeB === true) b = swapLast(b);
      const M = a.shape[a.shape.length - 2]!;
      const K = a.shape[a.shape.length - 1]!;
      const N = b.shape[b.shape.length - 1]!;
      const batchA = a.shape.slice(0, -2).reduce((x, y) => x * y, 1);
      const batchB = b.shape.slice(0, -2).reduce((x, y) => x * y, 1);
      const plain = { transposeA: false, transposeB: false };
      if (batchB === 1 && batchA > 1) {
        // A shared right operand: [batch·M, K] × [K, N] is one XNNPACK call.
        const result = original({ inputs: { a: view(a, [1, batchA * M, K]), b: view(b, [1, K, N]) }, backend, attrs: plain });
        const shaped = reshape({ inputs: { x: result }, backend, attrs: { shape: [...a.shape.slice(0, -2), M, N] } });
        backend.disposeData(result.dataId);
        return shaped;
      }
      if (batchA === batchB && batchA > 1 && M >= 16 && backend.typedArrayFromHeap !== undefined && a.dtype === 'float32') {
        return perSliceMatMul({ a, b, M, K, N, batch: batchA, backend, original });
      }
      const result = original({ inputs: { a, b }, backend, attrs: plain });
      return result;
    } finally {
      for (const t of temporaries) backend.disposeData(t.dataId);
    }
  };
}

function perSliceMatMul(input: { a: tf.TensorInfo; b: tf.TensorInfo; M: number; K: number; N: number; batch: number; backend: Backend; original: Kernel }): tf.TensorInfo {
  const { a, b, M, K, N, batch, backend, original } = input;
  const heap = (t: tf.TensorInfo) => backend.typedArrayFromHeap!(t) as Float32Array;
  const out = backend.makeOutput!([...a.shape.slice(0, -2), M, N], 'float32');
  for (let i = 0; i < batch; i++) {
    // Heap views are re-read after every allocation: a growing wasm memory detaches old buffers.
    const aSlice = backend.makeOutput!([1, M, K], 'float32');
    heap(aSlice).set(heap(a).subarray(i * M * K, (i + 1) * M * K));
    const bSlice = backend.makeOutput!([1, K, N], 'float32');
    heap(bSlice).set(heap(b).subarray(i * K * N, (i + 1) * K * N));
    const result = original({ inputs: { a: aSlice, b: bSlice }, backend, attrs: { transposeA: false, transposeB: false } });
    heap(out).set(heap(result), i * M * N);
    backend.disposeData(aSlice.dataId);
    backend.disposeData(bSlice.dataId);
    backend.disposeData(result.dataId);
  }
  return out;
}
