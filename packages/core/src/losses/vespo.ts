import { assertNumber } from '../batch/assert-finite';
import { TokenSource } from '../batch/token-source';
import { AipoError } from '../errors/aipo-error';
import type { PolicyLossBatchContext, PolicyLossBatchPlan, PolicyLossDefinition } from './policy-loss-definition';
import { reinforceLoss } from './reinforce';

/**
 * Shape parameters of VESPO's weight phi(w) = w^k * exp(lambda*(1 - w)), chosen by sign(A). The
 * reference notes (rl-frameworks.md table B, TRL `loss_type="vespo"`) give the formula but no values,
 * so these defaults are ours: phi peaks at w = k/lambda, below 1 (2/3) for A > 0 so a sequence the
 * policy already favours is damped, and above 1 (3/2) for A < 0. Pin them to the run you reproduce.
 */
export interface VespoOptions {
  /** default 2 */
  kPositive?: number;
  /** default 3 */
  lambdaPositive?: number;
  /** default 3 */
  kNegative?: number;
  /** default 2 */
  lambdaNegative?: number;
}

/** Log-weight clamp [log 1e-8, 20] (TRL's VESPO, rl-frameworks.md §3.1). */
const LOG_WEIGHT_MIN = Math.log(1e-8);
const LOG_WEIGHT_MAX = 20;

/**
 * VESPO (TRL `loss_type="vespo"`, rl-frameworks.md table B), registered as 'vespo': a smooth
 * sequence-level trust region. The sequence weight w_i = exp(clamp(sum_t log r + sum_t log w_IS,
 * log 1e-8, 20)) goes through phi = exp(lambda + k*log w - lambda*w) = w^k e^{lambda(1-w)}, which is
 * 1 at w = 1, peaks at w = k/lambda and decays for large w, so stale sequences fade out instead of
 * being clipped; l = -sg(phi_i)*A*lp. The batch pre-pass computes phi per row and passes it as the
 * policy tokens' IS weight: the caller's `isWeights` enter only through w, as in TRL, not again as a
 * multiplier (off-policy and agent tokens keep theirs). The sign of a row's advantage is that of its
 * summed token advantages.
 */
export const vespoLoss: PolicyLossDefinition = {
  id: 'vespo',
  description: 'REINFORCE weighted by the detached smooth sequence trust-region weight phi(w) (TRL vespo)',
  ratioLevel: 'token',
  token: reinforceLoss.token,
  prepareBatch: vespoSequenceWeights,
};

function vespoSequenceWeights({ input }: PolicyLossBatchContext): PolicyLossBatchPlan {
  const vespo = input.options?.vespo ?? {};
  const kPositive = vespo.kPositive ?? 2;
  const lambdaPositive = vespo.lambdaPositive ?? 3;
  const kNegative = vespo.kNegative ?? 3;
  const lambdaNegative = vespo.lambdaNegative ?? 2;
  for (const [name, value] of Object.entries({ kPositive, lambdaPositive, kNegative, lambdaNegative })) {
    assertNumber(`vespo.${name}`, value, (v) => v >= 0, '>= 0');
  }
  const { batchSize, sequenceLength, logProbs, oldLogProbs, lossMask, sourceMask, isWeights } = input;
  const phi = new Float64Array(batchSize);
  const weights = new Float64Array(batchSize * sequenceLength);
  for (let row = 0; row < batchSize; row++) {
    let logWeight = 0;
    let advantageSum = 0;
    for (let t = 0; t < sequenceLength; t++) {
      const index = row * sequenceLength + t;
      if (lossMask[index] === 0) continue;
      if (sourceMask !== undefined && sourceMask[index] !== TokenSource.policy) continue;
      if (oldLogProbs !== undefined) logWeight += (logProbs[index] as number) - (oldLogProbs[index] as number);
      if (isWeights !== undefined) {
        const weight = isWeights[index] as number;
        if (!(weight > 0) || !Number.isFinite(weight)) {
          throw new AipoError({
            code: 'INVALID_ARGUMENT',
            message: `isWeights must be finite and > 0 at masked-in policy tokens (got ${weight} at index ${index})`,
            details: { index, weight },
          });
        }
        logWeight += Math.log(weight);
      }
      advantageSum += input.advantages !== undefined ? (input.advantages[index] as number) : 0;
    }
    if (input.advantages === undefined) advantageSum = input.sequenceAdvantages?.[row] as number;
    // NaN (bad inputs) is left for the driver's validation to report with its position
    const clamped = Number.isNaN(logWeight) ? 0 : Math.min(LOG_WEIGHT_MAX, Math.max(LOG_WEIGHT_MIN, logWeight));
    const w = Math.exp(clamped);
    const positive = advantageSum > 0;
    const k = positive ? kPositive : kNegative;
    const lambda = positive ? lambdaPositive : lambdaNegative;
    phi[row] = Math.exp(lambda + k * clamped - lambda * w);
    for (let t = 0; t < sequenceLength; t++) {
      const index = row * sequenceLength + t;
      // non-policy tokens keep their own loss with weight 1 (or the caller's IS weight)
      const policy = sourceMask === undefined || sourceMask[index] === TokenSource.policy;
      weights[index] = policy ? (phi[row] as number) : isWeights === undefined ? 1 : (isWeights[index] as number);
    }
  }
  return { isWeights: weights, statistics: { sequenceWeights: phi } };
}
