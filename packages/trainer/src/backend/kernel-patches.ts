import * as tf from '@tensorflow/tfjs';

/**
 * The two kernel patches of shared/reference/tfjs-perf.md ("The two wasm patches"), registered
 * through `tf.registerKernel` after the backend initialised (the stock kernels' setup must have run):
 * 1. `UnsortedSegmentSum` (the gradient of `gather`) in JS. wasm has no kernel at all; the stock cpu
 *    one is O(numSegments·N·d) and took 13 s of a 40 s step.
 * 2. wasm `BatchMatMul`: the stock kernel uses XNNPACK only without transposes and with batch 1,
 *    everything else runs a scalar loop at ~3 GFLOP/s. Transposed operands are transposed first,
 *    a shared right operand folds the batch into rows, and batched attention products call
 *    XNNPACK once per batch slice when there are ≥ 16 rows (decode steps keep the stock path).
 */

type Backend = {
  readSync(dataId: object): tf.TypedArray;
  disposeData(dataId: object, force?: boolean): boolean;
  makeOutput?(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.TypedArray): tf.TensorInfo;
  makeTensorInfo?(shape: number[], dtype: tf.DataType, values?: tf.TypedArray): tf.TensorInfo;
  typedArrayFromHeap?(info: tf.TensorInfo): tf.TypedArray;
};

type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: Backend; attrs: Record<string, unknown> };
type Kernel = (args: KernelArgs) => tf.TensorInfo;

const patched = new Set<string>();

export interface KernelPatchOptions {
  /** replace wasm BatchMatMul (default true; false only to measure the stock kernel) */
  batchMatMul?: boolean;
}

/** Apply the patches for `backendName` (idempotent). Returns the names of the kernels replaced. */
export function applyKernelPatches(backendName: string, { batchMatMul: patchMatMul = true }: KernelPatchOptions = {}): string[] {
  if (patched.has(backendName)) return [];
  patched.add(backendName);
  const replaced: string[] = [];
  if (backendName === 'wasm' || backendName === 'cpu') {
    replaceKernel('UnsortedSegmentSum', backendName, unsortedSegmentSum);
    replaced.push('UnsortedSegmentSum');
  }
  if (backendName === 'wasm' && patchMatMul) {
    const original = tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc as Kernel | undefined;
    const transpose = tf.getKernel('Transpose', 'wasm')?.kernelFunc as Kernel | undefined;
    const reshape = tf.getKernel('Reshape', 'wasm')?.kernelFunc as Kernel | undefined;
    if (original !== undefined && transpose !== undefined && reshape !== undefined) {
      replaceKernel('BatchMatMul', 'wasm', batchMatMul({ original, transpose, reshape }));
      replaced.push('BatchMatMul');
    }
  }
  return replaced;
}

function replaceKernel(kernelName: string, backendName: string, kernelFunc: Kernel): void {
  if (tf.getKernel(kernelName, backendName) !== undefined) tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ kernelName, backendName, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}

function makeOutput(backend: Backend, shape: number[], dtype: tf.DataType, values: tf.TypedArray): tf.TensorInfo {
  // cpu: makeTensorInfo(shape, dtype, values) (its makeOutput takes other arguments); wasm: makeOutput.
  if (backend.makeTensorInfo !== undefined) return backend.makeTensorInfo(shape, dtype, values);
  return backend.makeOutput!(shape, dtype, undefined, values);
}

function unsortedSegmentSum({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const x = inputs.x!;
  const segmentIds = inputs.segmentIds!;
  const numSegments = attrs.numSegments as number;
  const values = backend.readSync(x.dataId);
  const ids = backend.readSync(segmentIds.dataId);
  const rows = ids.length;
  const inner = rows === 0 ? 0 : values.length / rows;
  const out = x.dtype === 'int32' ? new Int32Array(numSegments * inner) : new Float32Array(numSegments * inner);
  for (let i = 0; i < rows; i++) {
    const segment = ids[i]!;
    if (segment < 0 || segment >= numSegments) continue;
    const source = i * inner;
    const target = segment * inner;
    for (let j = 0; j < inner; j++) out[target + j]! += values[source + j]!;
  }
  return makeOutput(backend, [numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype, out);
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
