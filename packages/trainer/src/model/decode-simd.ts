import { AipoError } from '@aipo/core';
import { F32, I32, name, section, sleb, uleb, V128, vector, type WasmApi, type WasmMemory, webAssembly } from '@aipo/core/wasm';
import { loadNativeMatMul } from '../backend/native-matmul';

/**
 * Attention kernels for the decode path in 128-bit WebAssembly SIMD, over one `WebAssembly.Memory`
 * that also holds the KV cache (so nothing is copied per step). Decode attention is a dot product
 * and a weighted sum per (sequence, head) over at most a few thousand positions: too small for a
 * tfjs op per head (dispatch cost, tfjs-perf.md Q2) and about half the step in scalar JS.
 *
 * The module is assembled here from its instructions (no toolchain or binary in the repository):
 *   dots(q, kT, groups, rowBytes, hd, out):    out[s] = Σ_i q[i] · kT[i·row + s]       s < 16·groups
 *   axpys(p, v, S, strideBytes, hdBytes, out): out[i] = Σ_s p[s] · v[s·stride + i]      i < hd
 *   axpys16(...):                                the same for hd a multiple of 16, four accumulators
 *   softmax(x, chunks):                          x ← softmax(x) over 4·chunks floats, in place
 *   silu(gate, up, out, chunks):                 out = gate · sigmoid(gate) · up (SwiGLU)
 *   attend(q, kT, v, S, capacity, hd, heads, groups, kvRow, wide, scores, out):
 *     all query heads of one token: dots → softmax → axpys(16) per head, kv head ⌊h / groups⌋
 *   matmul(a, b, c, m, k, n8, lda, ldb, ldc):   c[i, j] = Σ_p a[i·lda + p] · b[p·ldb + j]   j < n8
 *     (n8 a multiple of 8; callers finish the last n mod 8 columns) in 4×8 register tiles, with
 *     relaxed SIMD's fused multiply-add where the engine validates it
 * Keys are stored transposed (`[hd, capacity]` per kv head) so the dot products vectorise over
 * positions with no horizontal sums; values stay `[capacity, hd]`. Loops keep four independent
 * accumulators (16 floats) where they can, so the adds do not wait on each other. Pointers are
 * byte offsets; hd must be a multiple of 4 (four f32 lanes) for `axpys`, S ≥ 1, chunks ≥ 1.
 * Accumulation is float32, as the backends' own kernels.
 */

/** `c[m, n] = a[m, k] · b[k, n]`, contiguous row-major blocks given by their `heap()` indices. */
export interface ArenaMatMul {
  a: number;
  b: number;
  c: number;
  m: number;
  k: number;
  n: number;
}

/** Growable float storage on one wasm memory, with the kernels bound to it. */
export interface DecodeArena {
  /** the memory as floats; re-read after `allocate` (growing the memory replaces the buffer) */
  heap(): Float32Array;
  /** `floats` zeroed floats; returns their index into `heap()` */
  allocate(floats: number): number;
  /** give a block back (same `floats` as allocated) */
  free(index: number, floats: number): void;
  /** SIMD kernels, or undefined where the engine lacks wasm SIMD (callers fall back to JS) */
  readonly kernels: DecodeKernels | undefined;
  /** the SIMD matmul uses relaxed SIMD's fused multiply-add */
  readonly relaxedSimd: boolean;
  /** what runs `matmul`: the native AVX2/FMA sgemm, the wasm SIMD kernel, or plain JS loops */
  readonly matmulPath: 'native' | 'simd' | 'js';
  /** a matmul over blocks of this arena (synchronous; the path above) */
  matmul(problem: ArenaMatMul): void;
}

export interface DecodeKernels {
  dots(q: number, keysTransposed: number, groups: number, rowBytes: number, hd: number, out: number): void;
  axpys(p: number, v: number, positions: number, strideBytes: number, hdBytes: number, out: number): void;
  axpys16(p: number, v: number, positions: number, strideBytes: number, hdBytes: number, out: number): void;
  /** lanes past the real length must hold −Infinity (they come out as ~1e-38, never read) */
  softmax(x: number, chunks: number): void;
  /** out = gate · sigmoid(gate) · up over 4·chunks floats */
  silu(gate: number, up: number, out: number, chunks: number): void;
  /**
   * One token's attention over `positions` keys/values, every query head (byte pointers; sizes in
   * floats; `wide` = 1 when hd is a multiple of 16). `scores` needs room for the positions
   * rounded up to 16.
   */
  attend(q: number, keysTransposed: number, values: number, positions: number, capacity: number, hd: number, heads: number, groups: number, kvRow: number, wide: number, scores: number, out: number): void;
  /**
   * `c[m, 0..n8) = a[m, k] · b[k, 0..n8)` for row-major operands with row strides in floats (byte
   * pointers); `n8` a multiple of 8, any `m`, `k` (see `matmulBody`).
   */
  matmul(a: number, b: number, c: number, m: number, k: number, n8: number, lda: number, ldb: number, ldc: number): void;
}

const PAGE = 65_536;

const wasm = webAssembly() as WasmApi;

export interface CreateDecodeArenaOptions {
  /** `false` keeps the plain JS loops (tests compare the paths) */
  simd?: boolean;
  /** `false` keeps matmuls off the optional native sgemm even when it is built (default true) */
  native?: boolean;
  /** `false` keeps the SIMD matmul on mul + add where relaxed SIMD's fused multiply-add exists (default true) */
  relaxedSimd?: boolean;
}

export function createDecodeArena({ simd = true, native = true, relaxedSimd = true }: CreateDecodeArenaOptions = {}): DecodeArena {
  const memory = new wasm.Memory({ initial: 16 });
  const instantiated = simd ? instantiateKernels(memory, { relaxed: relaxedSimd }) : undefined;
  const kernels = instantiated?.kernels;
  const nativeStatus = native ? loadNativeMatMul() : undefined;
  const sgemm = nativeStatus?.available === true ? nativeStatus.addon : undefined;
  let view = new Float32Array(memory.buffer);
  let top = 16; // keep index 0..15 unused: a 0 offset is never a live block
  const freeBlocks = new Map<number, number[]>();
  const heap = () => {
    if (view.buffer !== memory.buffer) view = new Float32Array(memory.buffer);
    return view;
  };
  return {
    heap,
    allocate(floats) {
      const reused = freeBlocks.get(floats)?.pop();
      if (reused !== undefined) {
        heap().fill(0, reused, reused + floats);
        return reused;
      }
      // 16-byte aligned blocks (v128 loads)
      const index = top;
      top += Math.ceil(floats / 4) * 4;
      const needed = top * 4 - memory.buffer.byteLength;
      if (needed > 0) {
        try {
          memory.grow(Math.ceil(needed / PAGE));
        } catch (error) {
          top = index;
          // a wasm32 memory stops at 4 GiB (weights, KV cache and activations share it)
          throw new AipoError({ code: 'INVALID_ARGUMENT', message: `the decode memory cannot grow by ${(needed / 2 ** 20).toFixed(0)} MiB to hold ${floats} floats (wasm32 memories stop at 4 GiB): run fewer or shorter sequences`, cause: error });
        }
      }
      return index;
    },
    free(index, floats) {
      const list = freeBlocks.get(floats) ?? [];
      list.push(index);
      freeBlocks.set(floats, list);
    },
    kernels,
    relaxedSimd: instantiated?.relaxed === true,
    matmulPath: sgemm !== undefined ? 'native' : kernels !== undefined ? 'simd' : 'js',
    matmul({ a, b, c, m, k, n }) {
      if (m === 0 || n === 0) return;
      const h = heap();
      if (sgemm !== undefined) {
        // the addon reads and writes the wasm memory in place through these views (no copies)
        sgemm.sgemm(h.subarray(a, a + m * k), h.subarray(b, b + k * n), h.subarray(c, c + m * n), 1, m, n, k, false, false, 0, 0);
        return;
      }
      const n8 = kernels === undefined ? 0 : n - (n % 8);
      if (n8 > 0) kernels!.matmul(a * 4, b * 4, c * 4, m, k, n8, k, n, n);
      matmulColumns({ heap: h, problem: { a, b, c, m, k, n }, from: n8 });
    },
  };
}

/** Columns `from..n` of an arena matmul in plain JS (the SIMD kernel's last n mod 8, or all). */
function matmulColumns({ heap, problem, from }: { heap: Float32Array; problem: ArenaMatMul; from: number }): void {
  const { a, b, c, m, k, n } = problem;
  if (from >= n) return;
  for (let i = 0; i < m; i++) {
    const row = c + i * n;
    heap.fill(0, row + from, row + n);
    for (let p = 0; p < k; p++) {
      const x = heap[a + i * k + p]!;
      const weights = b + p * n;
      for (let j = from; j < n; j++) heap[row + j] = heap[row + j]! + x * heap[weights + j]!;
    }
  }
}

function instantiateKernels(memory: WasmMemory, { relaxed }: { relaxed: boolean }): { kernels: DecodeKernels; relaxed: boolean } | undefined {
  // relaxed SIMD's fused multiply-add where the engine has it (V8 ≥ 11.4), else mul + add
  for (const variant of relaxed ? [true, false] : [false]) {
    const bytes = kernelModule({ relaxed: variant });
    if (!wasm.validate(bytes)) continue;
    const instance = new wasm.Instance(new wasm.Module(bytes), { env: { memory } });
    return { kernels: instance.exports as unknown as DecodeKernels, relaxed: variant };
  }
  return undefined;
}

// --- the kernels' instructions (the binary encoders come from @aipo/core/wasm) ---

const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  get: (local: number) => [0x20, ...uleb(local)],
  set: (local: number) => [0x21, ...uleb(local)],
  tee: (local: number) => [0x22, ...uleb(local)],
  i32: (value: number) => [0x41, ...sleb(value)],
  add: [0x6a],
  sub: [0x6b],
  ltU: [0x49],
  eqz: [0x45],
  geU: [0x4f],
  mul: [0x6c],
  divU: [0x6e],
  shrU: [0x76],
  shl: [0x74],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  call: (index: number) => [0x10, ...uleb(index)],
  if: [0x04, 0x40],
  else: [0x05],
  f32Store: [0x38, 0x02, 0x00],
  f32Load: [0x2a, 0x02, 0x00],
  f32Const: (value: number) => [0x43, ...f32Bytes(value)],
  f32Max: [0x97],
  f32Div: [0x95],
  f32Add: [0x92],
  v128Load: [0xfd, ...uleb(0x00), 0x00, 0x00],
  v128Load32Splat: [0xfd, ...uleb(0x09), 0x02, 0x00],
  v128Store: [0xfd, ...uleb(0x0b), 0x00, 0x00],
  v128LoadAt: (offset: number) => [0xfd, ...uleb(0x00), 0x00, ...uleb(offset)],
  v128StoreAt: (offset: number) => [0xfd, ...uleb(0x0b), 0x00, ...uleb(offset)],
  v128Zero: [0xfd, ...uleb(0x0c), ...new Array<number>(16).fill(0)],
  splat: [0xfd, ...uleb(0x13)],
  f32x4Add: [0xfd, ...uleb(0xe4)],
  f32x4Mul: [0xfd, ...uleb(0xe6)],
  f32x4Sub: [0xfd, ...uleb(0xe5)],
  f32x4Max: [0xfd, ...uleb(0xe9)],
  f32x4Min: [0xfd, ...uleb(0xe8)],
  f32x4Div: [0xfd, ...uleb(0xe7)],
  f32x4RelaxedMadd: [0xfd, ...uleb(0x105)],
  f32x4Neg: [0xfd, ...uleb(0xe1)],
  f32x4Nearest: [0xfd, ...uleb(0x6a)],
  f32x4Const: (value: number) => [0xfd, ...uleb(0x0c), ...f32Bytes(value), ...f32Bytes(value), ...f32Bytes(value), ...f32Bytes(value)],
  lane: (index: number) => [0xfd, ...uleb(0x1f), index],
  i32x4TruncSat: [0xfd, ...uleb(0xf8)],
  i32x4Add: [0xfd, ...uleb(0xae)],
  i32x4Shl: [0xfd, ...uleb(0xab)],
  i32x4Splat: [0xfd, ...uleb(0x11)],
};

function f32Bytes(value: number): number[] {
  return [...new Uint8Array(Float32Array.of(value).buffer)];
}

/**
 * Pushes exp(value) for `value` ∈ [−87, 88] (clobbers the locals): 2ⁿ·e^r with n = round(value/ln2),
 * |r| ≤ ln2/2, e^r by its degree-6 Taylor polynomial (truncation < 2e-7 relative) and 2ⁿ built in
 * the exponent bits (Cody–Waite split of ln2 as in Cephes expf).
 */
function expOf(value: number, n: number, poly: number): number[] {
  const horner = [1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1];
  return [
    ...op.get(value), ...op.f32x4Const(Math.LOG2E), ...op.f32x4Mul, ...op.f32x4Nearest, ...op.set(n),
    ...op.get(value), ...op.get(n), ...op.f32x4Const(0.693359375), ...op.f32x4Mul, ...op.f32x4Sub,
    ...op.get(n), ...op.f32x4Const(-2.12194440e-4), ...op.f32x4Mul, ...op.f32x4Sub, ...op.set(value),
    ...op.f32x4Const(horner[0]!), ...op.set(poly),
    ...horner.slice(1).flatMap((coefficient) => [...op.get(poly), ...op.get(value), ...op.f32x4Mul, ...op.f32x4Const(coefficient), ...op.f32x4Add, ...op.set(poly)]),
    ...op.get(poly),
    ...op.get(n), ...op.i32x4TruncSat, ...op.i32(127), ...op.i32x4Splat, ...op.i32x4Add, ...op.i32(23), ...op.i32x4Shl,
    ...op.f32x4Mul,
  ];
}

// silu params: 0 gate, 1 up, 2 out, 3 chunks: out = gate · sigmoid(gate) · up (SwiGLU, Shazeer 2020)
function siluBody(): number[] {
  const [gate, up, out, chunks, g, value, n, poly] = [0, 1, 2, 3, 4, 5, 6, 7];
  const code = [
    ...op.loop,
    ...op.get(gate), ...op.v128Load, ...op.tee(g),
    ...op.f32x4Neg, ...op.f32x4Const(88), ...op.f32x4Min, ...op.f32x4Const(-87), ...op.f32x4Max, ...op.set(value),
    ...op.get(out),
    ...op.get(g), ...op.f32x4Const(1), ...expOf(value, n, poly), ...op.f32x4Add, ...op.f32x4Div,
    ...op.get(up), ...op.v128Load, ...op.f32x4Mul,
    ...op.v128Store,
    ...op.get(gate), ...op.i32(16), ...op.add, ...op.set(gate),
    ...op.get(up), ...op.i32(16), ...op.add, ...op.set(up),
    ...op.get(out), ...op.i32(16), ...op.add, ...op.set(out),
    ...op.get(chunks), ...op.i32(1), ...op.sub, ...op.tee(chunks), ...op.brIf(0),
    ...op.end,
    ...op.end,
  ];
  return [...vector([[4, V128]]), ...code];
}

// attend params: 0 q, 1 kT, 2 v, 3 S, 4 capacity, 5 hd, 6 heads, 7 groups, 8 kvRow, 9 wide, 10 scores, 11 out
// calls the functions above by index: 0 dots, 1 axpys, 2 softmax, 4 axpys16
function attendBody(): number[] {
  const [q, k, v, S, capacity, hd, heads, groups, kvRow, wide, scores, out, head, kvHead, s] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
  const bytes = (local: number) => [...op.get(local), ...op.i32(4), ...op.mul];
  const chunks4 = [...op.get(S), ...op.i32(3), ...op.add, ...op.i32(2), ...op.shrU];
  // scores[S .. 4·⌈S/4⌉) = −∞: the padding lanes of the softmax
  const tail = [
    ...op.get(S), ...op.set(s),
    ...op.block, ...op.loop,
    ...op.get(s), ...chunks4, ...op.i32(2), ...op.shl, ...op.geU, ...op.brIf(1), // s ≥ ⌈S/4⌉·4
    ...op.get(scores), ...op.get(s), ...op.i32(4), ...op.mul, ...op.add, ...op.f32Const(-Infinity), ...op.f32Store,
    ...op.get(s), ...op.i32(1), ...op.add, ...op.set(s),
    ...op.br(0),
    ...op.end, ...op.end,
  ];
  // axpys(16)(scores, v + kvh·hd·4, S, kvRow·4, hd·4, out + h·hd·4)
  const weighted = [
    ...op.get(scores),
    ...op.get(v), ...op.get(kvHead), ...op.get(hd), ...op.mul, ...op.i32(4), ...op.mul, ...op.add,
    ...op.get(S),
    ...bytes(kvRow),
    ...bytes(hd),
    ...op.get(out), ...op.get(head), ...op.get(hd), ...op.mul, ...op.i32(4), ...op.mul, ...op.add,
  ];
  const body = [
    ...op.i32(0), ...op.set(head),
    ...op.loop,
    ...op.get(head), ...op.get(groups), ...op.divU, ...op.set(kvHead),
    // dots(q + h·hd·4, kT + kvh·hd·capacity·4, ⌈S/16⌉, capacity·4, hd, scores)
    ...op.get(q), ...op.get(head), ...op.get(hd), ...op.mul, ...op.i32(4), ...op.mul, ...op.add,
    ...op.get(k), ...op.get(kvHead), ...op.get(hd), ...op.mul, ...op.get(capacity), ...op.mul, ...op.i32(4), ...op.mul, ...op.add,
    ...op.get(S), ...op.i32(15), ...op.add, ...op.i32(4), ...op.shrU,
    ...bytes(capacity),
    ...op.get(hd),
    ...op.get(scores),
    ...op.call(0),
    ...tail,
    ...op.get(scores), ...chunks4, ...op.call(2),
    ...op.get(wide), ...op.if, ...weighted, ...op.call(4), ...op.else, ...weighted, ...op.call(1), ...op.end,
    ...op.get(head), ...op.i32(1), ...op.add, ...op.tee(head), ...op.get(heads), ...op.ltU, ...op.brIf(0),
    ...op.end,
    ...op.end,
  ];
  return [...vector([[3, I32]]), ...body];
}

// softmax params: 0 x, 1 chunks
function softmaxBody(): number[] {
  const [x, chunks, p, c, best, value, sum, n, poly, scalar] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const horizontal = (combine: number[]) => [
    ...op.get(best), ...op.lane(0), ...op.get(best), ...op.lane(1), ...combine,
    ...op.get(best), ...op.lane(2), ...op.get(best), ...op.lane(3), ...combine, ...combine,
  ];
  const pass = (body: number[]) => [
    ...op.get(x), ...op.set(p), ...op.get(chunks), ...op.set(c),
    ...op.loop, ...body,
    ...op.get(p), ...op.i32(16), ...op.add, ...op.set(p),
    ...op.get(c), ...op.i32(1), ...op.sub, ...op.tee(c), ...op.brIf(0),
    ...op.end,
  ];
  const code = [
    // pass 1: the maximum
    ...op.get(x), ...op.v128Load, ...op.set(best),
    ...pass([...op.get(best), ...op.get(p), ...op.v128Load, ...op.f32x4Max, ...op.set(best)]),
    ...horizontal(op.f32Max), ...op.splat, ...op.set(best),
    // pass 2: e = exp(x − max), summed
    ...op.v128Zero, ...op.set(sum),
    ...pass([
      ...op.get(p), ...op.v128Load, ...op.get(best), ...op.f32x4Sub, ...op.f32x4Const(-87), ...op.f32x4Max, ...op.set(value),
      ...expOf(value, n, poly), ...op.set(value),
      ...op.get(p), ...op.get(value), ...op.v128Store,
      ...op.get(sum), ...op.get(value), ...op.f32x4Add, ...op.set(sum),
    ]),
    // pass 3: divide by the sum
    ...op.get(sum), ...op.set(best),
    ...op.f32Const(1), ...horizontal(op.f32Add), ...op.f32Div, ...op.set(scalar),
    ...op.get(scalar), ...op.splat, ...op.set(best),
    ...pass([...op.get(p), ...op.get(p), ...op.v128Load, ...op.get(best), ...op.f32x4Mul, ...op.v128Store]),
    ...op.end,
  ];
  return [...vector([[2, I32], [5, V128], [1, F32]]), ...code];
}

/** acc_k += splat · v128.load(pointer + 16k) for k < 4 (four independent chains; fused with relaxed SIMD). */
function fourProducts(splat: number, pointer: number, accumulators: readonly number[], { relaxed }: { relaxed: boolean }): number[] {
  return accumulators.flatMap((acc, k) =>
    relaxed
      ? [...op.get(splat), ...op.get(pointer), ...op.v128LoadAt(16 * k), ...op.get(acc), ...op.f32x4RelaxedMadd, ...op.set(acc)]
      : [...op.get(acc), ...op.get(splat), ...op.get(pointer), ...op.v128LoadAt(16 * k), ...op.f32x4Mul, ...op.f32x4Add, ...op.set(acc)],
  );
}

function zero(locals: readonly number[]): number[] {
  return locals.flatMap((local) => [...op.v128Zero, ...op.set(local)]);
}

function storeFour(pointer: number[], accumulators: readonly number[]): number[] {
  return accumulators.flatMap((acc, k) => [...pointer, ...op.get(acc), ...op.v128StoreAt(16 * k)]);
}

// dots params: 0 q, 1 kT, 2 groups of 16 positions, 3 row stride (bytes), 4 hd (count), 5 out
function dotsBody(fma: { relaxed: boolean }): number[] {
  const [q, k, groups, row, hd, out, qq, kk, i, splat] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const acc = [10, 11, 12, 13];
  const code = [
    ...op.loop, // over groups of 16 positions
    ...zero(acc),
    ...op.get(q), ...op.set(qq),
    ...op.get(k), ...op.set(kk),
    ...op.get(hd), ...op.set(i),
    ...op.loop, // over the head's dimensions
    ...op.get(qq), ...op.f32Load, ...op.splat, ...op.set(splat),
    ...fourProducts(splat, kk, acc, fma),
    ...op.get(qq), ...op.i32(4), ...op.add, ...op.set(qq),
    ...op.get(kk), ...op.get(row), ...op.add, ...op.set(kk),
    ...op.get(i), ...op.i32(1), ...op.sub, ...op.tee(i), ...op.brIf(0),
    ...op.end,
    ...storeFour(op.get(out), acc),
    ...op.get(out), ...op.i32(64), ...op.add, ...op.set(out),
    ...op.get(k), ...op.i32(64), ...op.add, ...op.set(k),
    ...op.get(groups), ...op.i32(1), ...op.sub, ...op.tee(groups), ...op.brIf(0),
    ...op.end,
    ...op.end,
  ];
  return [...vector([[3, I32], [5, V128]]), ...code];
}

// axpys16 params as axpys, hd (bytes) a multiple of 64
function axpys16Body(fma: { relaxed: boolean }): number[] {
  const [p, v, S, stride, hd, out, i, s, pp, vv, splat] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const acc = [11, 12, 13, 14];
  const code = [
    ...op.i32(0), ...op.set(i),
    ...op.loop, // over 16-float groups of the head
    ...zero(acc),
    ...op.get(p), ...op.set(pp),
    ...op.get(v), ...op.get(i), ...op.add, ...op.set(vv),
    ...op.get(S), ...op.set(s),
    ...op.loop, // over positions
    ...op.get(pp), ...op.f32Load, ...op.splat, ...op.set(splat),
    ...fourProducts(splat, vv, acc, fma),
    ...op.get(pp), ...op.i32(4), ...op.add, ...op.set(pp),
    ...op.get(vv), ...op.get(stride), ...op.add, ...op.set(vv),
    ...op.get(s), ...op.i32(1), ...op.sub, ...op.tee(s), ...op.brIf(0),
    ...op.end,
    ...storeFour([...op.get(out), ...op.get(i), ...op.add], acc),
    ...op.get(i), ...op.i32(64), ...op.add, ...op.tee(i), ...op.get(hd), ...op.ltU, ...op.brIf(0),
    ...op.end,
    ...op.end,
  ];
  return [...vector([[4, I32], [5, V128]]), ...code];
}

// axpys params: 0 p, 1 v, 2 S, 3 stride (bytes), 4 hd (bytes), 5 out
function axpysBody(): number[] {
  const [p, v, S, stride, hd, out, i, s, pp, vv, acc] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const code = [
    ...op.i32(0), ...op.set(i),
    ...op.loop, // over 4-float chunks of the head
    ...op.v128Zero, ...op.set(acc),
    ...op.get(p), ...op.set(pp),
    ...op.get(v), ...op.get(i), ...op.add, ...op.set(vv),
    ...op.get(S), ...op.set(s),
    ...op.loop, // over positions
    ...op.get(acc),
    ...op.get(pp), ...op.f32Load, ...op.splat,
    ...op.get(vv), ...op.v128Load,
    ...op.f32x4Mul, ...op.f32x4Add, ...op.set(acc),
    ...op.get(pp), ...op.i32(4), ...op.add, ...op.set(pp),
    ...op.get(vv), ...op.get(stride), ...op.add, ...op.set(vv),
    ...op.get(s), ...op.i32(1), ...op.sub, ...op.tee(s), ...op.brIf(0),
    ...op.end,
    ...op.get(out), ...op.get(i), ...op.add, ...op.get(acc), ...op.v128Store,
    ...op.get(i), ...op.i32(16), ...op.add, ...op.tee(i), ...op.get(hd), ...op.ltU, ...op.brIf(0),
    ...op.end,
    ...op.end,
  ];
  return [...vector([[4, I32], [1, V128]]), ...code];
}

// matmul params: 0 a, 1 b, 2 c, 3 m, 4 k, 5 n8, 6 lda, 7 ldb, 8 ldc (pointers in bytes, the rest in floats)
/**
 * A small-M matmul for the decode step (M = tokens in the step, K and N ≤ a few thousand): the
 * register-tiled inner kernel of Goto & van de Geijn (2008) without packing, since a decode step
 * reads each weight once and the weights are already row-major `[K, N]`. Rows go four at a time
 * (then one at a time for the rest), columns eight at a time: 4×8 outputs live in eight v128
 * accumulators, and per step of the reduction two vectors of B and four broadcast values of A
 * feed eight multiply-adds (wasm SIMD has no FMA: a mul and an add, as XNNPACK's wasm kernels).
 */
function matmulBody({ relaxed }: { relaxed: boolean }): number[] {
  const [a, b, c, m, k, n8, lda, ldb, ldc] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [lda4, ldb4, ldc4, j, p, ap, bp, cp, n32] = [9, 10, 11, 12, 13, 14, 15, 16, 17];
  const [b0, b1, splat] = [18, 19, 20];
  const acc = [21, 22, 23, 24, 25, 26, 27, 28];
  const [rowOffset1, rowOffset2, rowOffset3] = [29, 30, 31];
  // acc += x · y: relaxed SIMD's f32x4.relaxed_madd (one FMA on x64 with FMA3; results may differ
  // from mul + add in the last bit, well inside the decode path's 1e-4) or a mul and an add
  const multiplyAdd = (x: number, y: number, acc: number) =>
    relaxed ? [...op.get(x), ...op.get(y), ...op.get(acc), ...op.f32x4RelaxedMadd, ...op.set(acc)] : [...op.get(acc), ...op.get(x), ...op.get(y), ...op.f32x4Mul, ...op.f32x4Add, ...op.set(acc)];
  const rowAddress = (r: number) => (r === 0 ? op.get(ap) : [...op.get(ap), ...op.get([rowOffset1, rowOffset2, rowOffset3][r - 1]!), ...op.add]);
  const tile = (rows: number) => [
    ...op.block, ...op.loop, // over tiles of `rows` rows
    ...op.get(m), ...op.i32(rows), ...op.ltU, ...op.brIf(1),
    ...op.i32(0), ...op.set(j),
    ...op.block, ...op.loop, // over 8-column tiles
    ...op.get(j), ...op.get(n32), ...op.geU, ...op.brIf(1),
    ...zero(acc.slice(0, 2 * rows)),
    ...op.get(a), ...op.set(ap),
    ...op.get(b), ...op.get(j), ...op.add, ...op.set(bp),
    ...op.get(k), ...op.set(p),
    ...op.block, ...op.loop, // over the reduction
    ...op.get(p), ...op.eqz, ...op.brIf(1),
    ...op.get(bp), ...op.v128Load, ...op.set(b0),
    ...op.get(bp), ...op.v128LoadAt(16), ...op.set(b1),
    ...Array.from({ length: rows }, (_, r) => [
      ...rowAddress(r), ...op.v128Load32Splat, ...op.set(splat),
      ...multiplyAdd(splat, b0, acc[2 * r]!),
      ...multiplyAdd(splat, b1, acc[2 * r + 1]!),
    ]).flat(),
    ...op.get(ap), ...op.i32(4), ...op.add, ...op.set(ap),
    ...op.get(bp), ...op.get(ldb4), ...op.add, ...op.set(bp),
    ...op.get(p), ...op.i32(1), ...op.sub, ...op.set(p),
    ...op.br(0),
    ...op.end, ...op.end,
    ...op.get(c), ...op.get(j), ...op.add, ...op.set(cp),
    ...Array.from({ length: rows }, (_, r) => [
      ...op.get(cp), ...op.get(acc[2 * r]!), ...op.v128Store,
      ...op.get(cp), ...op.get(acc[2 * r + 1]!), ...op.v128StoreAt(16),
      ...op.get(cp), ...op.get(ldc4), ...op.add, ...op.set(cp),
    ]).flat(),
    ...op.get(j), ...op.i32(32), ...op.add, ...op.set(j),
    ...op.br(0),
    ...op.end, ...op.end,
    ...op.get(a), ...op.get(lda4), ...op.i32(rows), ...op.mul, ...op.add, ...op.set(a),
    ...op.get(c), ...op.get(ldc4), ...op.i32(rows), ...op.mul, ...op.add, ...op.set(c),
    ...op.get(m), ...op.i32(rows), ...op.sub, ...op.set(m),
    ...op.br(0),
    ...op.end, ...op.end,
  ];
  const code = [
    ...op.get(lda), ...op.i32(4), ...op.mul, ...op.tee(lda4), ...op.set(rowOffset1),
    ...op.get(lda4), ...op.i32(2), ...op.mul, ...op.set(rowOffset2),
    ...op.get(lda4), ...op.i32(3), ...op.mul, ...op.set(rowOffset3),
    ...op.get(ldb), ...op.i32(4), ...op.mul, ...op.set(ldb4),
    ...op.get(ldc), ...op.i32(4), ...op.mul, ...op.set(ldc4),
    ...op.get(n8), ...op.i32(4), ...op.mul, ...op.set(n32),
    ...tile(4),
    ...tile(1),
    ...op.end,
  ];
  return [...vector([[9, I32], [11, V128], [3, I32]]), ...code];
}

function kernelModule({ relaxed }: { relaxed: boolean }): Uint8Array<ArrayBuffer> {
  const body = (code: number[]) => [...uleb(code.length), ...code];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector([
      [0x60, ...vector([[I32], [I32], [I32], [I32], [I32], [I32]]), 0x00],
      [0x60, ...vector([[I32], [I32]]), 0x00],
      [0x60, ...vector([[I32], [I32], [I32], [I32]]), 0x00],
      [0x60, ...vector(new Array<number[]>(12).fill([I32])), 0x00],
      [0x60, ...vector(new Array<number[]>(9).fill([I32])), 0x00],
    ])),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vector([[0x00], [0x00], [0x01], [0x02], [0x00], [0x03], [0x04]])),
    ...section(7, vector([
      [...name('dots'), 0x00, 0x00],
      [...name('axpys'), 0x00, 0x01],
      [...name('softmax'), 0x00, 0x02],
      [...name('silu'), 0x00, 0x03],
      [...name('axpys16'), 0x00, 0x04],
      [...name('attend'), 0x00, 0x05],
      [...name('matmul'), 0x00, 0x06],
    ])),
    ...section(10, vector([body(dotsBody({ relaxed })), body(axpysBody()), body(softmaxBody()), body(siluBody()), body(axpys16Body({ relaxed })), body(attendBody()), body(matmulBody({ relaxed }))])),
  ];
  return new Uint8Array(bytes);
}
