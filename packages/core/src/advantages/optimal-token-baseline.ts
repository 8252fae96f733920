import { assertFiniteMasked } from '../batch/assert-finite';
import { assertLength } from '../batch/policy-batch';
import { AipoError } from '../errors/aipo-error';
import type { AdvantageContext, AdvantageEstimator, TokenAdvantageOutput, TokenStatistics } from './advantage-estimator';
import { writeDiscountedReturns } from './token-rewards';

/** The factory's input: the batch's per-token statistics (see `TokenStatistics`). */
export type OptimalTokenBaselineInput = TokenStatistics;

/** Relative tolerance for sum_v π_v^2 >= π_t^2 (float32 inputs round). */
const SQUARED_TOLERANCE = 1e-5;

/**
 * The optimal token baseline (verl `optimal_token_baseline`, rl-frameworks.md table A): the
 * variance-minimising per-position baseline of the policy gradient. The score-function norm of a
 * sampled token is ||e_t - π||^2 = 1 - 2π_t + sum_v π_v^2, and a prefix accumulates it:
 *   W_{i,t} = sum_{j<=t} (1 - 2π_j + sum_v π_v^2) [* ρ_j^2],
 *   B_t = sum_i G_{i,t} W_{i,t} / sum_i W_{i,t}   over the group's scorable members live at t,
 *   A_{i,t} = G_{i,t} - B_t,
 * with G the return (outcome reward on the last token plus any token rewards, discounted by
 * `gamma`, default 1). Every term is >= (1 - π_j)^2 >= 0; a position where all weights are 0 falls
 * back to the plain mean of G. Excluded (unscorable) sequences get 0. Returns are G.
 *
 * Registered as 'optimal-token-baseline': pass the statistics as `computeAdvantages({ estimator:
 * 'optimal-token-baseline', tokenStatistics: { probs, sumSquaredProbs }, ... })`; without them the
 * call is INVALID_ARGUMENT (verl's estimator likewise needs `sum_pi_squared`).
 */
export const optimalTokenBaselineEstimator: AdvantageEstimator = {
  id: 'optimal-token-baseline',
  description: 'per-position baseline weighted by the accumulated score-function norm (OTB; needs tokenStatistics)',
  level: 'token',
  requires: ['tokenStatistics'],
  compute(context, output) {
    computeOptimalTokenBaseline(context, context.tokenStatistics as TokenStatistics, output);
  },
};

/**
 * The same estimator bound to one batch's statistics, for callers that build estimators per batch:
 * `computeAdvantages({ estimator: createOptimalTokenBaselineEstimator({ probs, sumSquaredProbs }), ... })`.
 */
export function createOptimalTokenBaselineEstimator(input: OptimalTokenBaselineInput): AdvantageEstimator {
  return {
    id: 'optimal-token-baseline',
    description: optimalTokenBaselineEstimator.description,
    level: 'token',
    compute(context, output) {
      computeOptimalTokenBaseline(context, input, output);
    },
  };
}

function computeOptimalTokenBaseline(
  context: AdvantageContext,
  input: TokenStatistics,
  output: TokenAdvantageOutput,
): void {
  const { batchSize, sequenceLength, lossMask, rewards, groups, options } = context;
  const size = batchSize * sequenceLength;
  assertLength('probs', input.probs, size);
  assertLength('sumSquaredProbs', input.sumSquaredProbs, size);
  assertLength('isWeights', input.isWeights, size);
  assertFiniteMasked('probs', input.probs, lossMask, sequenceLength);
  assertFiniteMasked('sumSquaredProbs', input.sumSquaredProbs, lossMask, sequenceLength);
  if (input.isWeights !== undefined) assertFiniteMasked('isWeights', input.isWeights, lossMask, sequenceLength);
  const gamma = options.gamma ?? 1;
  const weights = new Float64Array(size);
  for (let row = 0; row < batchSize; row++) {
    if (groups.member[row] === 0 || Number.isNaN(rewards[row] as number)) continue;
    const last = writeDiscountedReturns(context, row, gamma, output.returns);
    let accumulated = 0;
    for (let column = 0; column <= last; column++) {
      const index = row * sequenceLength + column;
      if (lossMask[index] === 0) continue;
      accumulated += scoreNorm(input, index);
      weights[index] = accumulated;
    }
  }
  // per (group, column): sums of W*G, W and G over live members
  const weightedSum = new Float64Array(groups.count * sequenceLength);
  const weightSum = new Float64Array(groups.count * sequenceLength);
  const plainSum = new Float64Array(groups.count * sequenceLength);
  const live = new Int32Array(groups.count * sequenceLength);
  forLiveTokens(context, (row, column, index) => {
    const slot = (groups.groupOf[row] as number) * sequenceLength + column;
    const ret = output.returns[index] as number;
    weightedSum[slot] = (weightedSum[slot] as number) + (weights[index] as number) * ret;
    weightSum[slot] = (weightSum[slot] as number) + (weights[index] as number);
    plainSum[slot] = (plainSum[slot] as number) + ret;
    live[slot] = (live[slot] as number) + 1;
  });
  forLiveTokens(context, (row, column, index) => {
    const slot = (groups.groupOf[row] as number) * sequenceLength + column;
    const total = weightSum[slot] as number;
    const baseline =
      total > 0 ? (weightedSum[slot] as number) / total : (plainSum[slot] as number) / (live[slot] as number);
    output.advantages[index] = (output.returns[index] as number) - baseline;
  });
}

/** ||e_t - π||^2 = 1 - 2π_t + sum_v π_v^2 (times ρ_t^2), validated. */
function scoreNorm(input: TokenStatistics, index: number): number {
  const p = input.probs[index] as number;
  const squared = input.sumSquaredProbs[index] as number;
  if (p < 0 || p > 1 || squared > 1 + SQUARED_TOLERANCE || squared < p * p * (1 - SQUARED_TOLERANCE) - 1e-12) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `need 0 <= probs <= 1 and probs^2 <= sumSquaredProbs <= 1 (got probs ${p}, sumSquaredProbs ${squared} at index ${index})`,
      details: { index, probs: p, sumSquaredProbs: squared },
    });
  }
  const rho = input.isWeights === undefined ? 1 : (input.isWeights[index] as number);
  if (rho < 0) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `isWeights must be >= 0 (got ${rho} at index ${index})` });
  }
  return Math.max(0, 1 - 2 * p + squared) * rho * rho;
}

function forLiveTokens(
  context: AdvantageContext,
  visit: (row: number, column: number, index: number) => void,
): void {
  const { batchSize, sequenceLength, lossMask, rewards, groups } = context;
  for (let row = 0; row < batchSize; row++) {
    if (groups.member[row] === 0 || Number.isNaN(rewards[row] as number)) continue;
    for (let column = 0; column < sequenceLength; column++) {
      const index = row * sequenceLength + column;
      if (lossMask[index] !== 0) visit(row, column, index);
    }
  }
}
