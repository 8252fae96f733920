import { nonFiniteError } from '../batch/assert-finite';
import type { FloatArray } from '../batch/float-array';
import { AipoError } from '../errors/aipo-error';
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
  const { batchSize, sequenceLength, logProbs, oldLogProbs, advantages, sequenceAdvantages, lossMask, options } = input;
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
  let localCount = 0;
  if (input.globalTokenCount === undefined) {
    for (let index = 0; index < tokens; index++) if (lossMask[index] !== 0) localCount++;
  }
  const total = input.globalTokenCount ?? localCount;
  const factor = total > 0 ? 1 / total : 0;
  const lower = 1 - options.clipLow;
  const upper = 1 + options.clipHigh;
  const clampLimit = options.logRatioClamp;
  const dualClip = options.dualClip;
  const clip = options.clip;
  const preserve = options.gradientPreservingClip;
  const tolerance = input.logProbTolerance;
  const advantageScale = options.advantageScale;
  const perToken = advantages !== undefined;
  // a fresh buffer is already zero; a reused one gets its masked-out positions zeroed in the main loop
  const reused = input.gradientBuffer !== undefined;
  const gradLogProbs = input.gradientBuffer ?? new Float32Array(tokens);
  let count = 0;
  let valueSum = 0;
  let ratioSum = 0;
  let ratioMin = Number.POSITIVE_INFINITY;
  let ratioMax = Number.NEGATIVE_INFINITY;
  let klSum = 0;
  let clipLow = 0;
  let clipHigh = 0;
  let clipDual = 0;
  let clamped = 0;
  for (let row = 0; row < batchSize; row++) {
    const offset = row * sequenceLength;
    const rowAdvantage = sequenceAdvantages === undefined ? 0 : (sequenceAdvantages[row] as number);
    if (!Number.isFinite(rowAdvantage)) {
      throw new AipoError({
        code: 'NON_FINITE_INPUT',
        message: `sequenceAdvantages[${row}] is ${rowAdvantage}`,
        details: { row },
      });
    }
    for (let index = offset, end = offset + sequenceLength; index < end; index++) {
      if (lossMask[index] === 0) {
        if (reused) gradLogProbs[index] = 0;
        continue;
      }
      const logProb = logProbs[index] as number;
      let logRatio = logProb - (oldLogProbs[index] as number);
      const advantage = advantageScale * (advantages === undefined ? rowAdvantage : (advantages[index] as number));
      // one comparison chain covers the common token; the rare path validates, then clamps
      let isClamped = false;
      if (
        !(logProb <= tolerance && logRatio <= clampLimit && logRatio >= -clampLimit) ||
        (perToken && !Number.isFinite(advantage))
      ) {
        if (!(logProb <= tolerance) || !Number.isFinite(logRatio) || !Number.isFinite(advantage)) {
          throw tokenError({
            logProb,
            oldLogProb: oldLogProbs[index] as number,
            advantage,
            index,
            sequenceLength,
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
      const ratio = Math.exp(logRatio);
      ratioSum += ratio;
      ratioMin = Math.min(ratioMin, ratio);
      ratioMax = Math.max(ratioMax, ratio);
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
  }
  if (input.globalTokenCount !== undefined && input.globalTokenCount < count) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `globalTokenCount must be an integer >= this batch's count ${count} (got ${input.globalTokenCount}); it counts every micro-batch of the step`,
      details: { global: input.globalTokenCount, local: count },
    });
  }
  const value = valueSum * factor;
  const stats = newStats();
  stats[STAT_POLICY_TOKENS] = count;
  stats[STAT_RATIO_SUM] = ratioSum;
  stats[STAT_RATIO_MIN] = ratioMin;
  stats[STAT_RATIO_MAX] = ratioMax;
  stats[STAT_KL_SUM] = klSum;
  stats[STAT_CLIP_LOW] = clipLow;
  stats[STAT_CLIP_HIGH] = clipHigh;
  stats[STAT_CLIP_DUAL] = clipDual;
  stats[STAT_CLAMPED] = clamped;
  stats[STAT_POLICY_VALUE] = value;
  return { value, gradLogProbs, diagnostics: summarize(stats, count) };
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
