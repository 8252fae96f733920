import { nonFiniteError } from '../batch/assert-finite';
import type { FloatArray } from '../batch/float-array';
import { AipoError } from '../errors/aipo-error';
import { expInRange } from '../math/fast-exp';
import { badLogProbError } from './log-prob-error';
import {
  newStats,
  STAT_CLAMPED,
  STAT_CLIP_DUAL,
  STAT_CLIP_HIGH,
  STAT_CLIP_LOW,
  STAT_KL_SUM,
  STAT_POLICY_TOKENS,
  STAT_POLICY_VALUE,
  STAT_RATIO_MAX,
  STAT_RATIO_MIN,
  STAT_RATIO_SUM,
  summarize,
} from './loss-stats';
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
  const total = input.globalTokenCount ?? countMaskedIn(lossMask, tokens);
  // a fresh buffer is already zero; a reused one gets its masked-out positions zeroed in the main loop
  const pass = new RowPass(input, input.gradientBuffer ?? new Float32Array(tokens), total > 0 ? 1 / total : 0);
  for (let row = 0; row < batchSize; row++) {
    const rowAdvantage = sequenceAdvantages === undefined ? 0 : (sequenceAdvantages[row] as number);
    if (!Number.isFinite(rowAdvantage)) {
      throw new AipoError({
        code: 'NON_FINITE_INPUT',
        message: `sequenceAdvantages[${row}] is ${rowAdvantage}`,
        details: { row },
      });
    }
    pass.start = row * sequenceLength;
    pass.rowAdvantage = pass.advantageScale * rowAdvantage;
    accumulateRow(pass);
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
  const value = (stats[STAT_POLICY_VALUE] as number) * pass.factor;
  stats[STAT_POLICY_VALUE] = value;
  return { value, gradLogProbs: pass.gradLogProbs, diagnostics: summarize(stats, count) };
}

function countMaskedIn(lossMask: Uint8Array, tokens: number): number {
  if (lossMask.byteOffset % 4 !== 0) return countNonZeroBytes(lossMask, 0, tokens);
  const words = new Uint32Array(lossMask.buffer, lossMask.byteOffset, tokens >>> 2);
  return countNonZeroWordBytes(words) + countNonZeroBytes(lossMask, words.length * 4, tokens);
}

// separate small functions: a tail loop that never runs inside the caller left it without type
// feedback and deoptimized its on-stack-replacement code on every call
function countNonZeroBytes(mask: Uint8Array, from: number, to: number): number {
  let count = 0;
  for (let index = from; index < to; index++) if (mask[index] !== 0) count++;
  return count;
}

/** four mask bytes per step (SWAR): bit 7 of each byte of `nonZero` is set iff that byte is non-zero */
function countNonZeroWordBytes(words: Uint32Array): number {
  let count = 0;
  for (let word = 0; word < words.length; word++) {
    const value = words[word] as number;
    const nonZero = (((value & 0x7f7f7f7f) + 0x7f7f7f7f) | value) & 0x80808080;
    count += Math.imul((nonZero >>> 7) & 0x01010101, 0x01010101) >>> 24;
  }
  return count;
}

/**
 * Everything one row of the pass reads, in one fixed-shape object. The per-token loop lives in its own
 * small function called once per row: V8 then optimizes it as a whole function after a few rows,
 * whereas a single function holding the B×T loop ran in on-stack-replacement code that deoptimized on
 * every call at the first post-loop statement (measured: ~2× slower, `--trace-deopt`).
 */
class RowPass {
  readonly sequenceLength: number;
  readonly logProbs: FloatArray;
  readonly oldLogProbs: FloatArray;
  readonly advantages: FloatArray | undefined;
  readonly lossMask: Uint8Array;
  readonly gradLogProbs: Float32Array;
  readonly reused: boolean;
  readonly factor: number;
  readonly lower: number;
  readonly upper: number;
  readonly clampLimit: number;
  readonly dualClip: number;
  readonly clip: boolean;
  readonly preserve: boolean;
  readonly tolerance: number;
  readonly advantageScale: number;
  readonly stats = newStats();
  /** first index of the current row */
  start = 0;
  /** the current row's scaled advantage when advantages come per sequence */
  rowAdvantage = 0;

  constructor(input: FusedTokenMeanInput, gradLogProbs: Float32Array, factor: number) {
    const { options } = input;
    this.sequenceLength = input.sequenceLength;
    this.logProbs = input.logProbs;
    this.oldLogProbs = input.oldLogProbs;
    this.advantages = input.advantages;
    this.lossMask = input.lossMask;
    this.gradLogProbs = gradLogProbs;
    this.reused = input.gradientBuffer !== undefined;
    this.factor = factor;
    this.lower = 1 - options.clipLow;
    this.upper = 1 + options.clipHigh;
    this.clampLimit = options.logRatioClamp;
    this.dualClip = options.dualClip;
    this.clip = options.clip;
    this.preserve = options.gradientPreservingClip;
    this.tolerance = input.logProbTolerance;
    this.advantageScale = options.advantageScale;
  }
}

function accumulateRow(pass: RowPass): void {
  const { logProbs, oldLogProbs, advantages, lossMask, gradLogProbs, reused, factor, lower, upper } = pass;
  const { clampLimit, dualClip, clip, preserve, tolerance, advantageScale, rowAdvantage, stats } = pass;
  const perToken = advantages !== undefined;
  let count = 0;
  let valueSum = 0;
  let ratioSum = 0;
  let logRatioMin = Number.POSITIVE_INFINITY;
  let logRatioMax = Number.NEGATIVE_INFINITY;
  let klSum = 0;
  let clipLow = 0;
  let clipHigh = 0;
  let clipDual = 0;
  let clamped = 0;
  for (let index = pass.start, end = pass.start + pass.sequenceLength; index < end; index++) {
    if (lossMask[index] === 0) {
      if (reused) gradLogProbs[index] = 0;
      continue;
    }
    const logProb = logProbs[index] as number;
    let logRatio = logProb - (oldLogProbs[index] as number);
    const advantage = perToken ? advantageScale * (advantages[index] as number) : rowAdvantage;
    // one comparison chain covers the common token; the rare path validates, then clamps
    let isClamped = false;
    if (
      !(logProb <= tolerance && Math.abs(logRatio) <= clampLimit) ||
      (perToken && !Number.isFinite(advantage))
    ) {
      if (!(logProb <= tolerance) || !Number.isFinite(logRatio) || !Number.isFinite(advantage)) {
        throw tokenError({
          logProb,
          oldLogProb: oldLogProbs[index] as number,
          advantage,
          index,
          sequenceLength: pass.sequenceLength,
          tolerance,
        });
      }
      isClamped = true;
    }
    count++;
    klSum -= logRatio;
    if (isClamped) {
      logRatio = logRatio > 0 ? clampLimit : -clampLimit;
      clamped++;
    }
    // |logRatio| <= clampLimit < 80 here (resolvePolicyLossOptions), so fastExp's range guard is moot
    // extremes of the log-ratio, not the ratio: the compares no longer wait for the exp (~6% faster
    // measured); fastExp is monotone to within an ulp (tested), so these give the ratio extremes
    if (logRatio < logRatioMin) logRatioMin = logRatio;
    if (logRatio > logRatioMax) logRatioMax = logRatio;
    const ratio = expInRange(logRatio);
    ratioSum += ratio;
    // max(-A*r, -A*clip(r)) only ever binds on one side: -A*min(r, 1+eps_h) for A > 0 and
    // -A*max(r, 1-eps_l) for A < 0, so each token takes one comparison (same values as ppoClipToken)
    let loss = -advantage * ratio;
    let gradient = loss;
    if (advantage > 0) {
      if (clip && ratio > upper) {
        loss = -advantage * upper;
        gradient = preserve ? loss : 0;
        clipHigh++;
      }
    } else if (advantage < 0) {
      if (clip && ratio < lower) {
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
    gradLogProbs[index] = isClamped ? 0 : gradient * factor;
  }
  stats[STAT_POLICY_TOKENS] = (stats[STAT_POLICY_TOKENS] as number) + count;
  stats[STAT_RATIO_SUM] = (stats[STAT_RATIO_SUM] as number) + ratioSum;
  if (count > 0) {
    stats[STAT_RATIO_MIN] = Math.min(stats[STAT_RATIO_MIN] as number, expInRange(logRatioMin));
    stats[STAT_RATIO_MAX] = Math.max(stats[STAT_RATIO_MAX] as number, expInRange(logRatioMax));
  }
  stats[STAT_KL_SUM] = (stats[STAT_KL_SUM] as number) + klSum;
  stats[STAT_CLIP_LOW] = (stats[STAT_CLIP_LOW] as number) + clipLow;
  stats[STAT_CLIP_HIGH] = (stats[STAT_CLIP_HIGH] as number) + clipHigh;
  stats[STAT_CLIP_DUAL] = (stats[STAT_CLIP_DUAL] as number) + clipDual;
  stats[STAT_CLAMPED] = (stats[STAT_CLAMPED] as number) + clamped;
  stats[STAT_POLICY_VALUE] = (stats[STAT_POLICY_VALUE] as number) + valueSum;
}

function tokenError(input: {
  logProb: number;
  oldLogProb: number;
  advantage: number;
  index: number;
  sequenceLength: number;
  tolerance: number;
}): AipoError {
  const { logProb, oldLogProb, advantage, index, sequenceLength } = input;
  if (Number.isFinite(logProb) && !Number.isFinite(oldLogProb))
    return nonFiniteError('oldLogProbs', index, oldLogProb, sequenceLength);
  if (Number.isFinite(logProb) && !Number.isFinite(advantage))
    return nonFiniteError('advantages', index, advantage, sequenceLength);
  return badLogProbError(index, logProb, sequenceLength);
}
