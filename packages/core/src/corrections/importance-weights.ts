import { assertNumber, nonFiniteError } from '../batch/assert-finite';
import type { FloatArray } from '../batch/float-array';
import { assertBatchShape, assertLength } from '../batch/policy-batch';
import { AipoError } from '../errors/aipo-error';

/**
 * Rollout / training mismatch correction (rl-frameworks.md table C). The rollout engine (vLLM) and
 * the trainer disagree slightly on log-probs; importance weights w = π_old/π_rollout fix the bias:
 * - token TIS (verl `rollout_is="token"`, TRL `token_truncate`): w_t = min(exp(lp_old - lp_roll), C)
 * - sequence TIS (verl default): w_i = min(exp(sum_t m*(lp_old - lp_roll)), C), broadcast to tokens
 * - masked IS (MIS / IcePop, TRL `token_mask` / `sequence_mask`): w outside [lower, upper] becomes 0
 *   and the token leaves `keepMask`.
 * The log-ratio is clamped to ±logRatioClamp before exp (verl ±20; TRL's sequence modes do not
 * clamp and overflow, §3.2 item 5). Weights are detached: pass them as `isWeights` to `policyLoss`.
 */
export interface ImportanceWeightsOptions {
  batchSize: number;
  sequenceLength: number;
  /** [B,T] log-probs of the trainer's behaviour policy π_old */
  oldLogProbs: FloatArray;
  /** [B,T] log-probs reported by the rollout engine */
  rolloutLogProbs: FloatArray;
  /** [B,T] 1 = response token */
  lossMask: Uint8Array;
  /** 'token' or 'sequence'; default 'token' */
  level?: 'token' | 'sequence';
  /** 'truncate' (TIS: clip into [lower, upper]) or 'mask' (MIS: zero outside); default 'truncate' */
  mode?: 'truncate' | 'mask';
  /** C, the upper threshold; default 2 (verl `rollout_is_threshold`) */
  upper?: number;
  /** lower threshold; default 0 for truncate (one-sided, verl) and 1/upper for mask */
  lower?: number;
  /** clamp of the (summed) log-ratio before exp; default 20 */
  logRatioClamp?: number;
  /** divide weights by their mean over kept tokens (verl `rollout_is_batch_normalize`); default false */
  batchNormalize?: boolean;
}

export interface ImportanceWeightsResult {
  /** [B,T] detached weights (0 on masked-out and MIS-rejected tokens) */
  weights: Float32Array;
  /** [B,T] lossMask minus MIS-rejected tokens (equal to lossMask in truncate mode) */
  keepMask: Uint8Array;
  diagnostics: {
    /** weight statistics over tokens of lossMask, before normalisation */
    mean: number;
    min: number;
    max: number;
    /** effective sample size fraction (sum w)^2 / (N sum w^2), in (0, 1] */
    effectiveSampleSize: number;
    /** chi^2 = E[w^2] - 1 (verl's mismatch metric) */
    chiSquared: number;
    /** fraction of tokens whose weight was truncated (truncate) or rejected (mask) */
    affectedFraction: number;
    /** fraction of tokens (token level) or sequences (sequence level) whose log-ratio hit the clamp */
    clampedFraction: number;
  };
}

export function importanceWeights(options: ImportanceWeightsOptions): ImportanceWeightsResult {
  const { batchSize, sequenceLength, oldLogProbs, rolloutLogProbs, lossMask } = options;
  assertBatchShape({ batchSize, sequenceLength, lossMask });
  const tokens = batchSize * sequenceLength;
  assertLength('oldLogProbs', oldLogProbs, tokens);
  assertLength('rolloutLogProbs', rolloutLogProbs, tokens);
  const level = options.level ?? 'token';
  const mode = options.mode ?? 'truncate';
  if (level !== 'token' && level !== 'sequence')
    throw invalid(`level must be 'token' or 'sequence' (got ${String(level)})`);
  if (mode !== 'truncate' && mode !== 'mask') throw invalid(`mode must be 'truncate' or 'mask' (got ${String(mode)})`);
  const upper = options.upper ?? 2;
  assertNumber('upper', upper, (value) => value > 0, '> 0');
  const lower = options.lower ?? (mode === 'mask' ? 1 / upper : 0);
  assertNumber('lower', lower, (value) => value >= 0 && value < upper, 'in [0, upper)');
  const clamp = options.logRatioClamp ?? 20;
  assertNumber('logRatioClamp', clamp, (value) => value > 0 && value < 80, 'in (0, 80)');
  const weights = new Float32Array(tokens);
  const keepMask = Uint8Array.from(lossMask, (value) => (value === 0 ? 0 : 1));
  let count = 0;
  let sum = 0;
  let squares = 0;
  let minimum = Number.POSITIVE_INFINITY;
  let maximum = Number.NEGATIVE_INFINITY;
  let affected = 0;
  let clamped = 0;
  let units = 0;
  for (let row = 0; row < batchSize; row++) {
    const offset = row * sequenceLength;
    let sequenceWeight = 1;
    if (level === 'sequence') {
      let logRatio = 0;
      let any = false;
      for (let index = offset; index < offset + sequenceLength; index++) {
        if (lossMask[index] === 0) continue;
        logRatio += tokenLogRatio(oldLogProbs, rolloutLogProbs, index, sequenceLength);
        any = true;
      }
      if (!any) continue;
      units++;
      if (Math.abs(logRatio) > clamp) {
        logRatio = Math.sign(logRatio) * clamp;
        clamped++;
      }
      sequenceWeight = Math.exp(logRatio);
    }
    for (let index = offset; index < offset + sequenceLength; index++) {
      if (lossMask[index] === 0) continue;
      let weight = sequenceWeight;
      if (level === 'token') {
        units++;
        let logRatio = tokenLogRatio(oldLogProbs, rolloutLogProbs, index, sequenceLength);
        if (Math.abs(logRatio) > clamp) {
          logRatio = Math.sign(logRatio) * clamp;
          clamped++;
        }
        weight = Math.exp(logRatio);
      }
      count++;
      sum += weight;
      squares += weight * weight;
      if (weight < minimum) minimum = weight;
      if (weight > maximum) maximum = weight;
      if (weight > upper || weight < lower) {
        affected++;
        if (mode === 'mask') {
          keepMask[index] = 0;
          continue;
        }
        weight = weight > upper ? upper : lower;
      }
      weights[index] = weight;
    }
  }
  if (options.batchNormalize) normalizeWeights(weights, keepMask);
  return {
    weights,
    keepMask,
    diagnostics: {
      mean: count > 0 ? sum / count : 0,
      min: count > 0 ? minimum : 0,
      max: count > 0 ? maximum : 0,
      effectiveSampleSize: squares > 0 ? (sum * sum) / (count * squares) : 0,
      chiSquared: count > 0 ? squares / count - 1 : 0,
      affectedFraction: count > 0 ? affected / count : 0,
      clampedFraction: units > 0 ? clamped / units : 0,
    },
  };
}

function normalizeWeights(weights: Float32Array, keepMask: Uint8Array): void {
  let count = 0;
  let sum = 0;
  for (let index = 0; index < weights.length; index++) {
    if (keepMask[index] === 0) continue;
    count++;
    sum += weights[index] as number;
  }
  if (count === 0 || sum === 0) return;
  const scale = count / sum;
  for (let index = 0; index < weights.length; index++) weights[index] = (weights[index] as number) * scale;
}

/** a[index] - b[index], throwing NON_FINITE_INPUT (with the arrays' names) if either is not finite. */
function tokenLogRatio(
  oldLogProbs: FloatArray,
  rolloutLogProbs: FloatArray,
  index: number,
  sequenceLength: number,
  names: readonly [string, string] = ['oldLogProbs', 'rolloutLogProbs'],
): number {
  const old = oldLogProbs[index] as number;
  const rollout = rolloutLogProbs[index] as number;
  if (!Number.isFinite(old)) throw nonFiniteError(names[0], index, old, sequenceLength);
  if (!Number.isFinite(rollout)) throw nonFiniteError(names[1], index, rollout, sequenceLength);
  return old - rollout;
}

function invalid(message: string): AipoError {
  return new AipoError({ code: 'INVALID_ARGUMENT', message });
}

export { tokenLogRatio as rolloutLogRatio };
