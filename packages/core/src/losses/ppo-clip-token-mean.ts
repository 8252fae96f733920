import { countNonZero } from '../batch/count-non-zero';
import type { FloatArray } from '../batch/float-array';
import { AipoError } from '../errors/aipo-error';
import { expInRange } from '../math/fast-exp';
import { ppoClipSimd, type SimdRowInput, type SimdRowSums } from './ppo-clip-simd';
import { STAT_POLICY_TOKENS, STAT_POLICY_VALUE, summarize } from './loss-stats';
import {
  addRow,
  offRangeToken,
  PASS_ADVANTAGE_SCALE,
  PASS_CLAMP,
  PASS_DUAL_CLIP,
  PASS_FACTOR,
  PASS_LOWER,
  PASS_ROW_ADVANTAGE,
  PASS_TOLERANCE,
  PASS_UPPER,
  RowPass,
} from './ppo-clip-row-pass';
import type { ResolvedPolicyLossOptions } from './policy-loss-definition';
import type { PolicyLossResult } from './policy-loss-input';

/** What the fused kernel needs; `policyLoss` only calls it for all-policy tokens, no IS weights, token-mean. */
export interface FusedTokenMeanInput {
  batchSize: number;
  sequenceLength: number;
  logProbs: FloatArray;
  oldLogProbs: FloatArray;
  advantages: FloatArray | undefined;
  sequenceAdvantages: FloatArray | undefined;
  lossMask: Uint8Array;
  options: ResolvedPolicyLossOptions;
  globalTokenCount: number | undefined;
  logProbTolerance: number;
  /** reused output buffer (length B*T); masked-out positions are zeroed in the same pass */
  gradientBuffer: Float32Array | undefined;
  /** run sequence-advantage rows through the WebAssembly SIMD kernel when it exists (default true) */
  simd?: boolean;
}

/**
 * PPO-clip + token-mean in one pass with one exp per token and no allocation besides the gradient:
 * the common case of the benchmark (issue 2). Same math as `ppoClipToken` through the general driver,
 * and tested for equality against it; every knob of ppo-clip is honoured.
 */
export function ppoClipTokenMean(input: FusedTokenMeanInput): PolicyLossResult {
  const { batchSize, sequenceLength, lossMask, sequenceAdvantages } = input;
  const tokens = batchSize * sequenceLength;
  if (
    input.globalTokenCount !== undefined &&
    !(Number.isInteger(input.globalTokenCount) && input.globalTokenCount >= 0)
  ) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `globalTokenCount must be a non-negative integer (got ${input.globalTokenCount})`,
    });
  }
  const total = input.globalTokenCount ?? countNonZero(lossMask, 0, tokens);
  // a fresh buffer is already zero; a reused one gets its masked-out positions zeroed in the main loop
  const pass = new RowPass(input, input.gradientBuffer ?? new Float32Array(tokens), total > 0 ? 1 / total : 0);
  const simd = input.simd !== false ? simdRows(input, pass) : undefined;
  for (let row = 0; row < batchSize; row++) {
    pass.start = row * sequenceLength;
    if (sequenceAdvantages === undefined) {
      if (!simd?.(row)) tokenAdvantageRow(pass);
      continue;
    }
    const rowAdvantage = sequenceAdvantages[row] as number;
    if (!Number.isFinite(rowAdvantage)) {
      throw new AipoError({
        code: 'NON_FINITE_INPUT',
        message: `sequenceAdvantages[${row}] is ${rowAdvantage}`,
        details: { row },
      });
    }
    const numbers = pass.numbers;
    numbers[PASS_ROW_ADVANTAGE] = (numbers[PASS_ADVANTAGE_SCALE] as number) * rowAdvantage;
    // one advantage per row fixes which side of the clip can bind, so each row runs a loop with one
    // comparison per token (A = ±0 clips nowhere: -0*bound never exceeds -0*r)
    if (simd?.(row)) continue;
    if ((numbers[PASS_ROW_ADVANTAGE] as number) < 0) negativeAdvantageRow(pass);
    else positiveAdvantageRow(pass);
  }
  const stats = pass.stats;
  const count = stats[STAT_POLICY_TOKENS] as number;
  if (input.globalTokenCount !== undefined && input.globalTokenCount < count) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `globalTokenCount must be an integer >= this batch's count ${count} (got ${input.globalTokenCount}); it counts every micro-batch of the step`,
      details: { global: input.globalTokenCount, local: count },
    });
  }
  const value = (stats[STAT_POLICY_VALUE] as number) * (pass.numbers[PASS_FACTOR] as number);
  stats[STAT_POLICY_VALUE] = value;
  return { value, gradLogProbs: pass.gradLogProbs, diagnostics: summarize(stats, count) };
}

/**
 * The row runner of the SIMD kernels (ppo-clip-simd.ts) for float32 inputs, or undefined where they
 * cannot run. It returns false for a row the scalar loops must take (a clamped or invalid token).
 */
function simdRows(input: FusedTokenMeanInput, pass: RowPass): ((row: number) => boolean) | undefined {
  const { logProbs, oldLogProbs, advantages, sequenceAdvantages } = input;
  if (!(logProbs instanceof Float32Array && oldLogProbs instanceof Float32Array)) return undefined;
  const perToken = sequenceAdvantages === undefined;
  if (perToken && !(advantages instanceof Float32Array)) return undefined;
  const kernel = ppoClipSimd();
  if (kernel === undefined) return undefined;
  const { numbers } = pass;
  const sums: SimdRowSums = { count: 0, valueSum: 0, ratioSum: 0, klSum: 0, logRatioMin: 0, logRatioMax: 0, clipLow: 0, clipHigh: 0, clipDual: 0 };
  const rowInput: SimdRowInput = {
    logProbs,
    oldLogProbs,
    lossMask: input.lossMask,
    gradLogProbs: pass.gradLogProbs,
    advantages: perToken ? (advantages as Float32Array) : undefined,
    advantageScale: numbers[PASS_ADVANTAGE_SCALE] as number,
    start: 0,
    length: pass.sequenceLength,
    negatedAdvantage: 0,
    factor: numbers[PASS_FACTOR] as number,
    // per-token mode reads the three bounds and picks by each token's sign
    low: numbers[PASS_LOWER] as number,
    high: numbers[PASS_UPPER] as number,
    dualClip: numbers[PASS_DUAL_CLIP] as number,
    tolerance: numbers[PASS_TOLERANCE] as number,
    clamp: numbers[PASS_CLAMP] as number,
    preserve: pass.preserve,
  };
  if (perToken) {
    return (row) => {
      rowInput.start = row * pass.sequenceLength;
      if (!kernel.row(rowInput, sums)) return false;
      addRow(pass, sums);
      return true;
    };
  }
  return (row) => {
    const advantage = numbers[PASS_ROW_ADVANTAGE] as number;
    const negative = advantage < 0;
    rowInput.start = row * pass.sequenceLength;
    rowInput.negatedAdvantage = -advantage;
    // the bounds of positiveAdvantageRow / negativeAdvantageRow: A >= 0 clips above at 1+eps_h (A = ±0
    // nowhere); A < 0 clips below at 1-eps_l and above at the dual clip c
    rowInput.low = negative ? (numbers[PASS_LOWER] as number) : Number.NEGATIVE_INFINITY;
    rowInput.high = negative
      ? (numbers[PASS_DUAL_CLIP] as number)
      : advantage > 0
        ? (numbers[PASS_UPPER] as number)
        : Number.POSITIVE_INFINITY;
    if (!kernel.row(rowInput, sums)) return false;
    const { clipHigh, ...rest } = sums;
    addRow(pass, { ...rest, clipHigh: negative ? 0 : clipHigh, clipDual: negative ? clipHigh : 0 });
    return true;
  };
}

/**
 * A row whose advantage A >= 0 (sequence advantages): only the upper clip can bind, l = -A*min(r, 1+eps_h).
 * The common token costs one mask test, two range tests (log-prob <= tolerance and |log r| <= clamp,
 * both false for NaN; `Math.abs` instead of two compares measured ~7% faster), one exp and one clip
 * comparison; clamped and invalid tokens leave through `offRangeToken`. Kept apart from
 * `negativeAdvantageRow` on purpose: one loop for both signs, with the bounds that cannot bind set to
 * ±Infinity, measured ~6% slower (two more compares per token).
 */
function positiveAdvantageRow(pass: RowPass): void {
  const { logProbs, oldLogProbs, lossMask, gradLogProbs, reused, numbers } = pass;
  const factor = numbers[PASS_FACTOR] as number;
  const clampLimit = numbers[PASS_CLAMP] as number;
  const tolerance = numbers[PASS_TOLERANCE] as number;
  const advantage = numbers[PASS_ROW_ADVANTAGE] as number;
  // A = ±0 never clips (-0*bound > -0*r is false), so its row runs with no bound
  const upper = advantage > 0 ? (numbers[PASS_UPPER] as number) : Number.POSITIVE_INFINITY;
  const clippedLoss = -advantage * upper;
  const clippedGradient = pass.preserve ? clippedLoss * factor : 0;
  let count = 0;
  let valueSum = 0;
  let ratioSum = 0;
  let klSum = 0;
  let logRatioMin = Number.POSITIVE_INFINITY;
  let logRatioMax = Number.NEGATIVE_INFINITY;
  let clipped = 0;
  for (let index = pass.start, end = pass.start + pass.sequenceLength; index < end; index++) {
    if (lossMask[index] === 0) {
      if (reused) gradLogProbs[index] = 0;
      continue;
    }
    const logProb = logProbs[index] as number;
    const logRatio = logProb - (oldLogProbs[index] as number);
    if (!(logProb <= tolerance && Math.abs(logRatio) <= clampLimit)) {
      offRangeToken(pass, index, advantage);
      continue;
    }
    count++;
    klSum -= logRatio;
    // extremes of the log-ratio, not the ratio, so they do not wait for the exp (expInRange is monotone
    // to within an ulp, tested); Math.min/max compile without a branch: ~3% faster than if-compares here
    logRatioMin = Math.min(logRatioMin, logRatio);
    logRatioMax = Math.max(logRatioMax, logRatio);
    const ratio = expInRange(logRatio);
    ratioSum += ratio;
    if (ratio > upper) {
      valueSum += clippedLoss;
      gradLogProbs[index] = clippedGradient;
      clipped++;
    } else {
      const loss = -advantage * ratio;
      valueSum += loss;
      gradLogProbs[index] = loss * factor;
    }
  }
  addRow(pass, { count, valueSum, ratioSum, klSum, logRatioMin, logRatioMax, clipLow: 0, clipHigh: clipped, clipDual: 0 });
}

/** A row whose advantage A < 0: l = -A*max(r, 1-eps_l), then capped at -A*c by the dual clip. */
function negativeAdvantageRow(pass: RowPass): void {
  const { logProbs, oldLogProbs, lossMask, gradLogProbs, reused, numbers } = pass;
  const factor = numbers[PASS_FACTOR] as number;
  const clampLimit = numbers[PASS_CLAMP] as number;
  const tolerance = numbers[PASS_TOLERANCE] as number;
  const dualClip = numbers[PASS_DUAL_CLIP] as number;
  const lower = numbers[PASS_LOWER] as number;
  const advantage = numbers[PASS_ROW_ADVANTAGE] as number;
  const lowLoss = -advantage * lower;
  const lowGradient = pass.preserve ? lowLoss * factor : 0;
  const dualLoss = -advantage * dualClip;
  const dualGradient = pass.preserve ? dualLoss * factor : 0;
  let count = 0;
  let valueSum = 0;
  let ratioSum = 0;
  let klSum = 0;
  let logRatioMin = Number.POSITIVE_INFINITY;
  let logRatioMax = Number.NEGATIVE_INFINITY;
  let clipLow = 0;
  let clipDual = 0;
  for (let index = pass.start, end = pass.start + pass.sequenceLength; index < end; index++) {
    if (lossMask[index] === 0) {
      if (reused) gradLogProbs[index] = 0;
      continue;
    }
    const logProb = logProbs[index] as number;
    const logRatio = logProb - (oldLogProbs[index] as number);
    if (!(logProb <= tolerance && Math.abs(logRatio) <= clampLimit)) {
      offRangeToken(pass, index, advantage);
      continue;
    }
    count++;
    klSum -= logRatio;
    logRatioMin = Math.min(logRatioMin, logRatio);
    logRatioMax = Math.max(logRatioMax, logRatio);
    const ratio = expInRange(logRatio);
    ratioSum += ratio;
    if (ratio < lower) {
      valueSum += lowLoss;
      gradLogProbs[index] = lowGradient;
      clipLow++;
    } else if (ratio > dualClip) {
      valueSum += dualLoss;
      gradLogProbs[index] = dualGradient;
      clipDual++;
    } else {
      const loss = -advantage * ratio;
      valueSum += loss;
      gradLogProbs[index] = loss * factor;
    }
  }
  addRow(pass, { count, valueSum, ratioSum, klSum, logRatioMin, logRatioMax, clipLow, clipHigh: 0, clipDual });
}

/** A row with per-token advantages [B,T]: the clip side is chosen per token. */
function tokenAdvantageRow(pass: RowPass): void {
  const { logProbs, oldLogProbs, lossMask, gradLogProbs, reused, preserve, numbers } = pass;
  const factor = numbers[PASS_FACTOR] as number;
  const clampLimit = numbers[PASS_CLAMP] as number;
  const tolerance = numbers[PASS_TOLERANCE] as number;
  const lower = numbers[PASS_LOWER] as number;
  const upper = numbers[PASS_UPPER] as number;
  const dualClip = numbers[PASS_DUAL_CLIP] as number;
  const advantageScale = numbers[PASS_ADVANTAGE_SCALE] as number;
  const advantages = pass.advantages as FloatArray;
  let count = 0;
  let valueSum = 0;
  let ratioSum = 0;
  let klSum = 0;
  let logRatioMin = Number.POSITIVE_INFINITY;
  let logRatioMax = Number.NEGATIVE_INFINITY;
  let clipLow = 0;
  let clipHigh = 0;
  let clipDual = 0;
  for (let index = pass.start, end = pass.start + pass.sequenceLength; index < end; index++) {
    if (lossMask[index] === 0) {
      if (reused) gradLogProbs[index] = 0;
      continue;
    }
    const logProb = logProbs[index] as number;
    const logRatio = logProb - (oldLogProbs[index] as number);
    const advantage = advantageScale * (advantages[index] as number);
    // advantage - advantage is NaN for ±Infinity and NaN, 0 otherwise: one test for both
    if (!(logProb <= tolerance && Math.abs(logRatio) <= clampLimit && advantage - advantage === 0)) {
      offRangeToken(pass, index, advantage);
      continue;
    }
    count++;
    klSum -= logRatio;
    logRatioMin = Math.min(logRatioMin, logRatio);
    logRatioMax = Math.max(logRatioMax, logRatio);
    const ratio = expInRange(logRatio);
    ratioSum += ratio;
    // max(-A*r, -A*clip(r)) only ever binds on one side: -A*min(r, 1+eps_h) for A > 0 and
    // -A*max(r, 1-eps_l) for A < 0 (same values as ppoClipToken)
    let loss = -advantage * ratio;
    let gradient = loss;
    if (advantage > 0) {
      if (ratio > upper) {
        loss = -advantage * upper;
        gradient = preserve ? loss : 0;
        clipHigh++;
      }
    } else if (advantage < 0) {
      if (ratio < lower) {
        loss = -advantage * lower;
        gradient = preserve ? loss : 0;
        clipLow++;
      } else if (ratio > dualClip) {
        loss = -advantage * dualClip;
        gradient = preserve ? loss : 0;
        clipDual++;
      }
    }
    valueSum += loss;
    gradLogProbs[index] = gradient * factor;
  }
  addRow(pass, { count, valueSum, ratioSum, klSum, logRatioMin, logRatioMax, clipLow, clipHigh, clipDual });
}
