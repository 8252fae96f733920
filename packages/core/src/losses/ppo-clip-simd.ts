import { POW2_J } from '../math/fast-exp';
import { assembleModule, F64, I32, op, V128 } from '../wasm/wasm-assembler';
import { webAssembly } from '../wasm/web-assembly';
import type { RowSums } from './ppo-clip-row-pass';

/**
 * The fused PPO-clip row of `ppo-clip-token-mean.ts` in 128-bit WebAssembly SIMD: two float64 lanes,
 * so one exp per token costs half a scalar one. The scalar kernel already ran at a bare `Math.exp`
 * loop's speed, above issue 2's 12 ms budget for 2M tokens on this machine; only vector lanes go
 * below it.
 *
 * The math is `expInRange` (Tang's table-driven exp) operation for operation in float64, the same
 * constants and the same evaluation order, and IEEE arithmetic is deterministic, so every ratio,
 * loss and float32 gradient is bit-identical to the scalar kernel's (tested). Only the row sums
 * differ in rounding: two lanes sum alternate tokens. The table step 2^(j/64) is a lane load; 2^k is
 * built in the exponent bits.
 *
 * One call handles one row copied into the module's memory (the inputs are ordinary typed arrays,
 * so they are copied in, a row at a time: a scratch of O(T), never O(B·T)). A row whose masked-in
 * tokens include one the hot loop does not take (log-prob above tolerance, |log r| beyond the
 * clamp, NaN) is reported, and the caller reruns it through the scalar code, which clamps it or
 * throws the typed error.
 */

/** Byte layout of the module's memory. */
const TABLE = 0; // 64 float64: 2^(j/64), copied from fast-exp.ts
const STATS = 512; // the v128 accumulators (ACCUMULATORS), written at the end of a row
const SCRATCH = 1024; // logp, old, grad, advantages: [Tp] f32 each; mask [Tp] u8; Tp = T rounded up to 4
const PAGE = 65_536;

/**
 * Sums of one row over its masked-in tokens, as the scalar rows report them; in row mode a ratio above
 * the upper bound is counted in `clipHigh` (the caller files it as the dual clip for an A < 0 row).
 */
export type SimdRowSums = RowSums;

export interface SimdRowInput {
  logProbs: Float32Array;
  oldLogProbs: Float32Array;
  lossMask: Uint8Array;
  gradLogProbs: Float32Array;
  /** [B,T] advantages: per-token mode (then `low`, `high` and `dualClip` are the bounds 1−ε_l, 1+ε_h and c) */
  advantages: Float32Array | undefined;
  advantageScale: number;
  start: number;
  length: number;
  /** −A (the row's scaled advantage, negated); row mode */
  negatedAdvantage: number;
  factor: number;
  /** row mode: the clip range [low, high] of the ratio, (−∞, 1+ε_h] for A > 0, [1−ε_l, c] for A < 0 */
  low: number;
  high: number;
  dualClip: number;
  tolerance: number;
  clamp: number;
  preserve: boolean;
}

export interface PpoClipSimd {
  /** runs one row; returns false when the row holds a token for the scalar path (nothing is written) */
  row(input: SimdRowInput, sums: SimdRowSums): boolean;
}

type RowKernel = (
  logp: number,
  old: number,
  mask: number,
  grad: number,
  quads: number,
  negatedAdvantage: number,
  factor: number,
  low: number,
  high: number,
  notPreserve: number,
  advantages: number,
  advantageScale: number,
  dualClip: number,
) => void;

let cached: PpoClipSimd | null | undefined;

/** The SIMD row kernels, or undefined where the engine has no WebAssembly SIMD (then the scalar loops run). */
export function ppoClipSimd(): PpoClipSimd | undefined {
  if (cached === undefined) {
    try {
      cached = instantiate() ?? null;
    } catch {
      // an engine that forbids compiling code (a CSP without 'wasm-unsafe-eval'): the scalar loops run
      cached = null;
    }
  }
  return cached ?? undefined;
}

function instantiate(): PpoClipSimd | undefined {
  const wasm = webAssembly();
  if (wasm === undefined) return undefined;
  const bytes = assembleModule([
    { name: 'row', params: ROW_PARAMS, results: [], locals: ROW_LOCALS, code: rowCode(false) },
    { name: 'tokenRow', params: ROW_PARAMS, results: [], locals: ROW_LOCALS, code: rowCode(true) },
  ]);
  if (!wasm.validate(bytes)) return undefined;
  const memory = new wasm.Memory({ initial: 2 });
  const kernels = new wasm.Instance(new wasm.Module(bytes), { env: { memory } }).exports as { row: RowKernel; tokenRow: RowKernel };
  new Float64Array(memory.buffer, TABLE, 64).set(POW2_J);
  const lanes = 2 * ACCUMULATORS.length;
  let capacity = 0; // padded row length the scratch holds
  let heapF32 = new Float32Array(memory.buffer);
  let heapU8 = new Uint8Array(memory.buffer);
  let stats = new Float64Array(memory.buffer, STATS, lanes);
  // the int64 count lanes, read by their low words (a row holds far fewer than 2^31 tokens)
  let counts = new Int32Array(memory.buffer, STATS, 2 * lanes);
  const reserve = (padded: number) => {
    if (padded <= capacity) return;
    const needed = SCRATCH + 17 * padded - memory.buffer.byteLength;
    if (needed > 0) memory.grow(Math.ceil(needed / PAGE));
    capacity = padded;
    heapF32 = new Float32Array(memory.buffer);
    heapU8 = new Uint8Array(memory.buffer);
    stats = new Float64Array(memory.buffer, STATS, lanes);
    counts = new Int32Array(memory.buffer, STATS, 2 * lanes);
  };
  const sum = (accumulator: number) => (stats[2 * accumulator] as number) + (stats[2 * accumulator + 1] as number);
  const count = (accumulator: number) => (counts[4 * accumulator] as number) + (counts[4 * accumulator + 2] as number);
  return {
    row(input, sums) {
      const { start, length, advantages } = input;
      const padded = (length + 3) & ~3;
      reserve(padded);
      const logp = SCRATCH;
      const old = logp + 4 * padded;
      const grad = old + 4 * padded;
      const advantage = grad + 4 * padded;
      const mask = advantage + 4 * padded;
      const end = start + length;
      heapF32.set(input.logProbs.subarray(start, end), logp >> 2);
      heapF32.set(input.oldLogProbs.subarray(start, end), old >> 2);
      if (advantages !== undefined) heapF32.set(advantages.subarray(start, end), advantage >> 2);
      heapU8.set(input.lossMask.subarray(start, end), mask);
      // padding tokens are masked out
      heapU8.fill(0, mask + length, mask + padded);
      const kernel = advantages === undefined ? kernels.row : kernels.tokenRow;
      const { negatedAdvantage, factor, low, high, advantageScale, dualClip } = input;
      kernel(logp, old, mask, grad, padded >> 2, negatedAdvantage, factor, low, high, input.preserve ? 0 : 1, advantage, advantageScale, dualClip);
      const valueSum = sum(A_VALUE);
      const ratioSum = sum(A_RATIO);
      const logRatioMin = Math.min(stats[2 * A_MIN] as number, stats[2 * A_MIN + 1] as number);
      const logRatioMax = Math.max(stats[2 * A_MAX] as number, stats[2 * A_MAX + 1] as number);
      const logProbMax = Math.max(stats[2 * A_LOG_PROB_MAX] as number, stats[2 * A_LOG_PROB_MAX + 1] as number);
      const advantageMax = Math.max(stats[2 * A_ADVANTAGE_MAX] as number, stats[2 * A_ADVANTAGE_MAX + 1] as number);
      // the scalar loop's test, `logp <= tolerance && |log r| <= clamp` (and a finite advantage), for
      // the whole row at once; a NaN log-ratio or advantage (which the maxima skip) makes the value
      // sum NaN
      const clamp = input.clamp;
      const inRange = logProbMax <= input.tolerance && logRatioMin >= -clamp && logRatioMax <= clamp;
      if (!(inRange && advantageMax < Number.POSITIVE_INFINITY && !Number.isNaN(valueSum))) return false;
      input.gradLogProbs.set(heapF32.subarray(grad >> 2, (grad >> 2) + length), start);
      sums.count = count(A_COUNT);
      sums.valueSum = valueSum;
      sums.ratioSum = ratioSum;
      sums.klSum = sum(A_KL);
      sums.logRatioMin = logRatioMin;
      sums.logRatioMax = logRatioMax;
      sums.clipLow = count(A_CLIP_LOW);
      sums.clipHigh = count(A_CLIP_HIGH);
      sums.clipDual = count(A_CLIP_DUAL);
      return true;
    },
  };
}

// --- the kernel ---

// params (one signature for both functions; each ignores what its mode does not use)
const [LOGP, OLD, MASK, GRAD, QUADS] = [0, 1, 2, 3, 4];
const [NEG_A, FACTOR, LOW, HIGH] = [5, 6, 7, 8];
const NOT_PRESERVE = 9;
const [ADVANTAGES, ADVANTAGE_SCALE, DUAL_CLIP] = [10, 11, 12];
const ROW_PARAMS = [I32, I32, I32, I32, I32, F64, F64, F64, F64, I32, I32, F64, F64];
// v128 locals, numbered after the params: the splatted scalars, the constants, the accumulators,
// then the per-quad temporaries
let nextLocal = ROW_PARAMS.length;
const locals = <T extends number[]>(count: number): T => Array.from({ length: count }, () => nextLocal++) as T;
type Six = [number, number, number, number, number, number, number];
const [vNegA, vFactor, vLow, vHigh, vNotPreserve, vScale, vDual] = locals<Six>(7);
// the kernel's constants, splatted once before the loop: an inline v128.const costs three
// instructions per use on x64 (V8 rebuilds it from a general register), a local one load at worst.
// expInRange's constants (fast-exp.ts) as the same float64 values.
const CONSTANTS = [
  64 / Math.LN2,
  6755399441055744,
  // biome-ignore lint/correctness/noPrecisionLoss: fdlibm's literal, as in fast-exp.ts
  6.93147180369123816490e-1 / 64,
  // biome-ignore lint/correctness/noPrecisionLoss: fdlibm's literal, as in fast-exp.ts
  1.90821492927058770002e-10 / 64,
  1,
  0.5,
  1 / 6,
  1 / 24,
  1 / 120,
  0,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
] as const;
const constantLocals = locals<number[]>(CONSTANTS.length);
const [INV_LN2_64, SHIFTER, LN2_64_HI, LN2_64_LO, ONE, HALF, SIXTH, TWENTY_FOURTH, HUNDRED_TWENTIETH, ZERO, POS_INF, NEG_INF] =
  constantLocals as [number, number, number, number, number, number, number, number, number, number, number, number];
const [INDEX_MASK, EXPONENT_BIAS] = locals<[number, number]>(2);
/** positions of the row's sums at STATS (one v128 each: two lanes) */
const [A_COUNT, A_VALUE, A_RATIO, A_KL, A_MIN, A_MAX, A_CLIP_LOW, A_CLIP_HIGH, A_CLIP_DUAL, A_LOG_PROB_MAX, A_ADVANTAGE_MAX] = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
];
const ACCUMULATORS = locals<number[]>(11);
const at = (position: number) => ACCUMULATORS[position] as number;
const [aCount, aValue, aRatio, aKl, aMin, aMax, aClipLow, aClipHigh, aClipDual, aLogProbMax, aAdvantageMax] = [
  A_COUNT, A_VALUE, A_RATIO, A_KL, A_MIN, A_MAX, A_CLIP_LOW, A_CLIP_HIGH, A_CLIP_DUAL, A_LOG_PROB_MAX, A_ADVANTAGE_MAX,
].map(at) as number[] as [number, number, number, number, number, number, number, number, number, number, number];
const [lp4, old4, adv4, mask32, notMask32, use, notUse, x, n, r, r2, ni, ratio, loss, gradient, clipLowMask, clipHighMask, half0] =
  locals<number[]>(18) as [number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number];
// per-token mode: the token's scaled advantage, its negation, its sign masks and its clip bounds
const [advantage, negatedAdvantage, positive, negative, lowBound, highBound] = locals<Six>(6);
const ROW_LOCALS: Array<[number, number]> = [[nextLocal - ROW_PARAMS.length, V128]];

const splat = (param: number, local: number) => [...op.get(param), ...op.f64x2Splat, ...op.set(local)];

/**
 * Tokens 2·half, 2·half+1 of the current quad: loss, gradient (demoted, left on the stack) and sums.
 * Row mode clips every token to [low, high]; per-token mode picks the bounds of `tokenAdvantageRow`
 * by the sign of each token's A: (−∞, 1+ε_h] for A > 0, [1−ε_l, c] for A < 0, none for A = ±0 or NaN.
 */
function halfCode(half: 0 | 1, perToken: boolean): number[] {
  const lanes = (local: number) => [...op.get(local), ...(half === 0 ? [] : [...op.get(local), ...op.f32x4High]), ...op.f64x2PromoteLow];
  const addTo = (accumulator: number, value: number[], combine: number[]) => [...op.get(accumulator), ...value, ...combine, ...op.set(accumulator)];
  const used = (value: number) => [...op.get(value), ...op.get(use), ...op.v128And];
  const extend = half === 0 ? op.i64x2ExtendLowS32 : op.i64x2ExtendHighS32;
  const [negA, low, high] = perToken ? [negatedAdvantage, lowBound, highBound] : [vNegA, vLow, vHigh];
  const tokenAdvantage = [
    // A = scale·a (as advantageScale * a: IEEE products commute), −A, and the bounds by sign
    ...lanes(adv4), ...op.get(vScale), ...op.f64x2Mul, ...op.tee(advantage), ...op.f64x2Neg, ...op.set(negatedAdvantage),
    ...addTo(aAdvantageMax, [...op.get(advantage), ...op.f64x2Abs, ...op.get(notUse), ...op.v128Or], op.f64x2Pmax),
    ...op.get(advantage), ...op.get(ZERO), ...op.f64x2Gt, ...op.set(positive),
    ...op.get(advantage), ...op.get(ZERO), ...op.f64x2Lt, ...op.set(negative),
    ...op.get(vLow), ...op.get(NEG_INF), ...op.get(negative), ...op.v128Bitselect, ...op.set(lowBound),
    ...op.get(vHigh), ...op.get(vDual), ...op.get(POS_INF), ...op.get(negative), ...op.v128Bitselect, ...op.get(positive), ...op.v128Bitselect, ...op.set(highBound),
  ];
  return [
    // x = logp − old (float64) where the mask is set, 0 elsewhere (exp(0) is harmless); the range
    // checks are left to the end of the row: a masked-out lane becomes NaN (all bits set), which
    // pmax/pmin skip as their second operand, so the maxima see only masked-in tokens
    ...op.get(mask32), ...extend, ...op.set(use),
    ...op.get(notMask32), ...extend, ...op.set(notUse),
    ...lanes(lp4), ...op.tee(n),
    ...lanes(old4), ...op.f64x2Sub, ...op.set(x),
    ...addTo(aLogProbMax, [...op.get(n), ...op.get(notUse), ...op.v128Or], op.f64x2Pmax),
    ...op.get(x), ...op.get(notUse), ...op.v128Or, ...op.set(n),
    ...addTo(aMin, op.get(n), op.f64x2Pmin),
    ...addTo(aMax, op.get(n), op.f64x2Pmax),
    ...used(x), ...op.set(x),
    ...(perToken ? tokenAdvantage : []),
    // expInRange: t = x·64/ln2 + S, n = t − S; r = x − n·hi − n·lo. The low 32 bits of t are the
    // integer n in two's complement (the point of the 1.5·2^52 shifter), so `n | 0` needs no convert
    ...op.get(x), ...op.get(INV_LN2_64), ...op.f64x2Mul, ...op.get(SHIFTER), ...op.f64x2Add, ...op.tee(ni),
    ...op.get(SHIFTER), ...op.f64x2Sub, ...op.set(n),
    ...op.get(x), ...op.get(n), ...op.get(LN2_64_HI), ...op.f64x2Mul, ...op.f64x2Sub,
    ...op.get(n), ...op.get(LN2_64_LO), ...op.f64x2Mul, ...op.f64x2Sub, ...op.tee(r),
    ...op.get(r), ...op.f64x2Mul, ...op.set(r2),
    // p = (1 + r) + r2·((0.5 + r/6) + r2·(1/24 + r/120)), the same association as the scalar code
    ...op.get(ONE), ...op.get(r), ...op.f64x2Add,
    ...op.get(r2),
    ...op.get(HALF), ...op.get(r), ...op.get(SIXTH), ...op.f64x2Mul, ...op.f64x2Add,
    ...op.get(r2), ...op.get(TWENTY_FOURTH), ...op.get(r), ...op.get(HUNDRED_TWENTIETH), ...op.f64x2Mul, ...op.f64x2Add, ...op.f64x2Mul,
    ...op.f64x2Add, ...op.f64x2Mul, ...op.f64x2Add, ...op.set(r2), // r2 now holds p
    // 2^(n >> 6): (n >> 6) + 1023 in the 32-bit words, shifted into the exponent field (bits 52..62;
    // the high word's garbage leaves through the top); 2^(j/64) by loading the table at 8·(n & 63)
    ...op.get(ni), ...op.i32(6), ...op.i32x4ShrS, ...op.get(EXPONENT_BIAS), ...op.i32x4Add, ...op.i32(52), ...op.i64x2Shl,
    ...op.get(ni), ...op.get(INDEX_MASK), ...op.v128And, ...op.i32(3), ...op.i32x4Shl, ...op.tee(ni),
    ...op.i32x4ExtractLane(2),
    ...op.get(ni), ...op.i32x4ExtractLane(0), ...op.v128Load64Zero(TABLE),
    ...op.v128Load64Lane(TABLE, 1),
    ...op.f64x2Mul, ...op.get(r2), ...op.f64x2Mul, ...op.set(ratio),
    // loss = −A·min(max(ratio, low), high); gradient = loss·factor, 0 where clipped unless preserving
    ...op.get(negA), ...op.get(ratio), ...op.get(low), ...op.f64x2Pmax, ...op.get(high), ...op.f64x2Pmin, ...op.f64x2Mul, ...op.set(loss),
    ...op.get(ratio), ...op.get(low), ...op.f64x2Lt, ...op.get(use), ...op.v128And, ...op.set(clipLowMask),
    ...op.get(ratio), ...op.get(high), ...op.f64x2Gt, ...op.get(use), ...op.v128And, ...op.set(clipHighMask),
    ...op.get(loss), ...op.get(vFactor), ...op.f64x2Mul,
    ...op.get(clipLowMask), ...op.get(clipHighMask), ...op.v128Or, ...op.get(vNotPreserve), ...op.v128And, ...op.v128AndNot,
    ...op.get(use), ...op.v128And, ...op.set(gradient),
    // the row sums over used lanes (counts as int64: a true lane is −1)
    ...addTo(aCount, op.get(use), op.i64x2Sub),
    ...addTo(aValue, used(loss), op.f64x2Add),
    ...addTo(aRatio, used(ratio), op.f64x2Add),
    ...addTo(aKl, op.get(x), op.f64x2Sub),
    ...addTo(aClipLow, op.get(clipLowMask), op.i64x2Sub),
    // above the upper bound: the 1+ε_h clip for A > 0, the dual clip for A < 0
    ...(perToken
      ? [
          ...addTo(aClipHigh, [...op.get(clipHighMask), ...op.get(positive), ...op.v128And], op.i64x2Sub),
          ...addTo(aClipDual, [...op.get(clipHighMask), ...op.get(positive), ...op.v128AndNot], op.i64x2Sub),
        ]
      : addTo(aClipHigh, op.get(clipHighMask), op.i64x2Sub)),
    ...op.get(gradient), ...op.f32x4DemoteZero,
  ];
}

function rowCode(perToken: boolean): number[] {
  const advance = (pointer: number, bytes: number) => [...op.get(pointer), ...op.i32(bytes), ...op.i32Add, ...op.set(pointer)];
  const zeros = (...targets: number[]) => targets.flatMap((local) => [...op.i64x2(0n), ...op.set(local)]);
  const store = (local: number, index: number) => [...op.i32(0), ...op.get(local), ...op.v128StoreAt(STATS + 16 * index)];
  return [
    ...splat(NEG_A, vNegA), ...splat(FACTOR, vFactor), ...splat(LOW, vLow), ...splat(HIGH, vHigh),
    ...splat(ADVANTAGE_SCALE, vScale), ...splat(DUAL_CLIP, vDual),
    // vNotPreserve = all ones when the clipped gradient is zeroed
    ...op.i64x2(0n), ...op.set(vNotPreserve),
    ...op.get(NOT_PRESERVE), ...op.if, ...op.i64x2(-1n), ...op.set(vNotPreserve), ...op.end,
    ...CONSTANTS.flatMap((value, index) => [...op.f64x2(value), ...op.set(constantLocals[index] as number)]),
    ...op.i32(63), ...op.i32x4Splat, ...op.set(INDEX_MASK),
    ...op.i32(1023), ...op.i32x4Splat, ...op.set(EXPONENT_BIAS),
    ...zeros(aCount, aValue, aRatio, aKl, aClipLow, aClipHigh, aClipDual),
    ...op.f64x2(Number.POSITIVE_INFINITY), ...op.set(aMin),
    ...op.f64x2(Number.NEGATIVE_INFINITY), ...op.set(aMax),
    ...op.f64x2(Number.NEGATIVE_INFINITY), ...op.set(aLogProbMax),
    ...op.f64x2(Number.NEGATIVE_INFINITY), ...op.set(aAdvantageMax),
    ...op.block, ...op.loop,
    ...op.get(QUADS), ...op.i32Eqz, ...op.brIf(1),
    ...op.get(MASK), ...op.i32Load, ...op.i32Eqz,
    ...op.if, // four masked-out tokens: gradient 0
    ...op.get(GRAD), ...op.i64x2(0n), ...op.v128StoreAt(0),
    ...op.else,
    ...op.get(LOGP), ...op.v128Load, ...op.set(lp4),
    ...op.get(OLD), ...op.v128Load, ...op.set(old4),
    ...(perToken ? [...op.get(ADVANTAGES), ...op.v128Load, ...op.set(adv4)] : []),
    // mask bytes → i32 lanes of all ones where masked out (notMask32) and where masked in (mask32)
    ...op.get(MASK), ...op.v128Load32Zero, ...op.i16x8ExtendLowU8, ...op.i32x4ExtendLowU16, ...op.i64x2(0n), ...op.i32x4Eq, ...op.tee(notMask32),
    ...op.v128Not, ...op.set(mask32),
    ...op.get(GRAD),
    ...halfCode(0, perToken), ...op.set(half0),
    ...op.get(half0), ...halfCode(1, perToken), ...op.f32x4LowPairs,
    ...op.v128StoreAt(0),
    ...op.end,
    ...advance(LOGP, 16), ...advance(OLD, 16), ...advance(GRAD, 16), ...advance(ADVANTAGES, 16), ...advance(MASK, 4),
    ...op.get(QUADS), ...op.i32(1), ...op.i32Sub, ...op.set(QUADS),
    ...op.br(0),
    ...op.end, ...op.end,
    ...ACCUMULATORS.flatMap((local, index) => store(local, index)),
  ];
}
