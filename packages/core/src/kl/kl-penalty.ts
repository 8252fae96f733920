import { assertFiniteAll, assertNumber } from '../batch/assert-finite';
import type { FloatArray } from '../batch/float-array';
import { assertLength } from '../batch/policy-batch';
import { aggregateLoss } from '../aggregation/aggregate-loss';
import type { AggregationCounts, AggregationMode } from '../aggregation/aggregation-plan';
import { AipoError } from '../errors/aipo-error';
import { computeKlTokens, type KlTokenOptions, type KlTokens } from './kl-tokens';

export interface KlDiagnostics {
  /** masked-in token mean of the per-token KL estimate (before the coefficient) */
  meanKl: number;
  /** mean over non-empty rows of each row's token-mean KL: the "current KL" verl feeds its adaptive controller */
  sequenceMeanKl: number;
  /** fraction of masked-in tokens where a clamp bound (log-ratio, value or IS ratio) */
  clampedFraction: number;
  /** masked-in tokens */
  tokenCount: number;
  /** the resolved estimator's name */
  estimator: string;
  /** min / mean / max importance weight (IS-corrected KL; all 1 otherwise) */
  importanceWeight: { min: number; mean: number; max: number };
}

export interface KlLossOptions extends KlTokenOptions {
  /** KL in the loss: loss += β·agg(kl) (verl `use_kl_loss`, OpenRLHF `kl.use_loss`) */
  placement: 'loss';
  /** β >= 0 (verl `kl_loss_coef` default 0.001) */
  coefficient: number;
  /** aggregation mode and global counts; use the same as the policy loss (verl does). Default token-mean. */
  aggregation?: AggregationCounts & { mode: AggregationMode };
}

export interface KlLossResult {
  /** β·agg(kl) */
  value: number;
  /** [B,T] ∂value/∂logProbs (0 on masked-out positions) */
  gradLogProbs: Float32Array;
  /** [B,T] per-token KL estimate (0 on masked-out positions) */
  perTokenKl: Float32Array;
  diagnostics: KlDiagnostics;
}

export interface KlRewardOptions extends KlTokenOptions {
  /** KL in the reward: r_t ← r_t − β·kl_t per token (verl `use_kl_in_reward`, OpenRLHF's default) */
  placement: 'reward';
  /** β >= 0 */
  coefficient: number;
  /** [B,T] token rewards to shape; or give `rewards` */
  tokenRewards?: FloatArray;
  /** [B] outcome rewards, placed on each row's last masked-in token first (verl's convention) */
  rewards?: FloatArray;
}

export interface KlRewardResult {
  /** [B,T] token rewards minus β·kl on masked-in positions; a constant for the optimiser (no gradient) */
  shapedRewards: Float32Array;
  /** [B] per-row sum of the KL estimate (TRL RLOO's sequence KL) */
  sequenceKl: Float32Array;
  /** [B,T] per-token KL estimate */
  perTokenKl: Float32Array;
  diagnostics: KlDiagnostics;
}

/**
 * The KL regulariser towards a reference policy, placed in the loss or in the reward
 * (rl-frameworks.md table E). Both placements share the estimator, clamps and IS correction of
 * `computeKlTokens`. In the loss it follows the loss contract `{ value, gradLogProbs, diagnostics }`
 * so callers backpropagate `sum(sg(gradLogProbs)·logProbs)`.
 */
export function klPenalty(options: KlLossOptions): KlLossResult;
export function klPenalty(options: KlRewardOptions): KlRewardResult;
export function klPenalty(options: KlLossOptions | KlRewardOptions): KlLossResult | KlRewardResult {
  assertNumber('coefficient', options.coefficient, (value) => value >= 0, 'a finite number >= 0');
  if (options.placement === 'loss') return klInLoss(options);
  if (options.placement === 'reward') return klInReward(options);
  throw new AipoError({
    code: 'INVALID_ARGUMENT',
    message: `placement must be 'loss' or 'reward' (got ${String((options as { placement: unknown }).placement)})`,
  });
}

function klInLoss(options: KlLossOptions): KlLossResult {
  const { coefficient, mask, batchSize, sequenceLength, aggregation = { mode: 'token-mean' } } = options;
  const tokens = computeKlTokens(options);
  const aggregated = aggregateLoss({ ...aggregation, values: tokens.values, mask, batchSize, sequenceLength });
  const gradLogProbs = new Float32Array(tokens.values.length);
  for (let index = 0; index < gradLogProbs.length; index++) {
    gradLogProbs[index] = coefficient * (aggregated.weights[index] as number) * (tokens.derivatives[index] as number);
  }
  return {
    value: coefficient * aggregated.value,
    gradLogProbs,
    perTokenKl: Float32Array.from(tokens.values),
    diagnostics: diagnose(tokens, sequenceLength),
  };
}

function klInReward(options: KlRewardOptions): KlRewardResult {
  const { coefficient, mask, batchSize, sequenceLength, tokenRewards, rewards } = options;
  const tokens = computeKlTokens(options);
  if ((tokenRewards === undefined) === (rewards === undefined)) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: "KL in the reward needs exactly one of 'tokenRewards' [B,T] or 'rewards' [B]" });
  }
  const shapedRewards = new Float32Array(batchSize * sequenceLength);
  if (tokenRewards !== undefined) {
    assertLength('tokenRewards', tokenRewards, batchSize * sequenceLength);
    assertFiniteAll('tokenRewards', tokenRewards);
    shapedRewards.set(tokenRewards);
  } else if (rewards !== undefined) {
    assertLength('rewards', rewards, batchSize);
    placeOnLastToken({ rewards, mask, sequenceLength, into: shapedRewards });
  }
  const sequenceKl = new Float32Array(batchSize);
  for (let row = 0; row < batchSize; row++) {
    let sum = 0;
    for (let index = row * sequenceLength; index < (row + 1) * sequenceLength; index++) {
      if (mask[index] === 0) continue;
      const kl = tokens.values[index] as number;
      sum += kl;
      shapedRewards[index] = (shapedRewards[index] as number) - coefficient * kl;
    }
    sequenceKl[row] = sum;
  }
  return { shapedRewards, sequenceKl, perTokenKl: Float32Array.from(tokens.values), diagnostics: diagnose(tokens, sequenceLength) };
}

/** Put R_i on row i's last masked-in token (an empty row has nowhere to carry it and stays 0). */
function placeOnLastToken(options: { rewards: FloatArray; mask: Uint8Array; sequenceLength: number; into: Float32Array }): void {
  const { rewards, mask, sequenceLength, into } = options;
  for (let row = 0; row < rewards.length; row++) {
    for (let index = (row + 1) * sequenceLength - 1; index >= row * sequenceLength; index--) {
      if (mask[index] === 0) continue;
      const reward = rewards[row] as number;
      if (!Number.isFinite(reward)) {
        throw new AipoError({
          code: 'NON_FINITE_INPUT',
          message: `rewards[${row}] is ${reward}; drop or mask unscorable (NaN) sequences before shaping rewards`,
          details: { name: 'rewards', index: row, value: reward },
        });
      }
      into[index] = reward;
      break;
    }
  }
}

function diagnose(tokens: KlTokens, sequenceLength: number): KlDiagnostics {
  let sum = 0;
  let rowMeanSum = 0;
  let rows = 0;
  for (let row = 0; row < tokens.rowLengths.length; row++) {
    const length = tokens.rowLengths[row] as number;
    if (length === 0) continue;
    let rowSum = 0;
    for (let index = row * sequenceLength; index < (row + 1) * sequenceLength; index++) rowSum += tokens.values[index] as number;
    sum += rowSum;
    rowMeanSum += rowSum / length;
    rows++;
  }
  return {
    meanKl: tokens.tokenCount === 0 ? 0 : sum / tokens.tokenCount,
    sequenceMeanKl: rows === 0 ? 0 : rowMeanSum / rows,
    clampedFraction: tokens.tokenCount === 0 ? 0 : tokens.clampedTokens / tokens.tokenCount,
    tokenCount: tokens.tokenCount,
    estimator: tokens.estimator.name,
    importanceWeight: tokens.weightStats,
  };
}
