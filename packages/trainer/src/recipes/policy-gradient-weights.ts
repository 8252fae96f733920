import { AipoError, type AggregationMode, klPenalty, policyLoss, TokenSource } from '@aipo/core';
import type { RecipeConfig } from './recipe-config';
import type { Trajectory } from './trajectory';

/** Statistics of one weight computation (logged per step). */
export interface WeightStats {
  /** mean importance ratio π_θ/π_old over policy tokens */
  ratioMean: number;
  /** largest ratio */
  ratioMax: number;
  /** share of policy tokens on the lower clip branch (A<0, r<1−ε_low) */
  clipFractionLow: number;
  /** share of policy tokens on the upper clip branch (A>0, r>1+ε_high) */
  clipFractionHigh: number;
  /** mean π_θ of off-policy tokens (LUFFY) */
  offPolicyProbabilityMean: number;
  /** mean π_θ of agent tokens (AIPO) */
  agentProbabilityMean: number;
  /** share of agent tokens where the floor c_min was active */
  agentFloorFraction: number;
  /** tokens entering the loss */
  lossTokens: number;
  /** mean KL estimate to the reference policy over policy tokens (NaN when the KL term is off) */
  klReference: number;
}

export interface PolicyGradientWeightsOptions {
  /** the minibatch */
  trajectories: readonly Trajectory[];
  /** per trajectory, log π_θ of its response tokens (current policy) */
  logProbs: readonly Float32Array[];
  /** per trajectory, its sequence advantage Â_i */
  advantages: readonly number[];
  /** per trajectory, log π_ref of its response tokens (needed when `loss.klCoefficient` > 0) */
  refLogProbs?: readonly Float32Array[];
  /** the recipe's loss and method settings */
  config: Pick<RecipeConfig, 'loss' | 'luffy' | 'aipo' | 'maxResponseTokens'>;
}

/** The recipe's aggregation names in core's terms (shared by the policy loss, KL and entropy terms). */
export const RECIPE_AGGREGATION = {
  'token-mean': 'token-mean',
  'seq-mean-token-mean': 'seq-mean-token-mean',
  // Dr.GRPO: Σ tokens / (rows · C) with the constant C = maxResponseTokens
  'constant-length': 'seq-mean-token-sum-norm',
} as const satisfies Record<RecipeConfig['loss']['aggregation'], AggregationMode>;

/**
 * Per-token gradient weights w = ∂L/∂log π_θ of a recipe's objective, from core's `policyLoss`
 * (the trainer minimises Σ sg(w)·log π_θ). Each token source gets its paper's term:
 * - policy tokens: PPO-clip −min(r·Â, clip(r, 1−ε_l, 1+ε_h)·Â), r = π_θ/π_old (optionally no
 *   clip, LUFFY; or the gradient-preserving clip of the AIPO prototype, algorithms.md §1.3);
 * - off-policy tokens (LUFFY, arXiv 2504.14945): −Â·f(π_θ), f(p) = p/(p+γ), unclipped, behaviour
 *   probability 1;
 * - agent tokens (AIPO, arXiv 2605.08401, prototype coefficient): max(−Â·p, −Â·max(p, c_min)_gp)·λ,
 *   or left out of the loss when `aipo.trainOnAgentTokens` is false.
 * Rows are laid out [B,T] (T = longest response) for core and cut back per trajectory.
 */
export function computePolicyGradientWeights(options: PolicyGradientWeightsOptions): { weights: Float32Array[]; stats: WeightStats } {
  const { trajectories, logProbs, advantages, refLogProbs, config } = options;
  if (logProbs.length !== trajectories.length || advantages.length !== trajectories.length) {
    throw new AipoError({ code: 'SHAPE_MISMATCH', message: 'trajectories, logProbs and advantages must have the same length' });
  }
  const withKl = config.loss.klCoefficient > 0;
  if (withKl && refLogProbs?.length !== trajectories.length) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'loss.klCoefficient > 0 needs refLogProbs (log π_ref) for every trajectory' });
  }
  const batchSize = trajectories.length;
  const sequenceLength = Math.max(1, ...trajectories.map((trajectory) => trajectory.response.length));
  const current = new Float32Array(batchSize * sequenceLength);
  const old = new Float32Array(batchSize * sequenceLength);
  const lossMask = new Uint8Array(batchSize * sequenceLength);
  const sourceMask = new Uint8Array(batchSize * sequenceLength);
  const reference = withKl ? new Float32Array(batchSize * sequenceLength) : undefined;
  const klMask = withKl ? new Uint8Array(batchSize * sequenceLength) : undefined;
  let offSum = 0;
  let offCount = 0;
  let agentSum = 0;
  let agentCount = 0;
  trajectories.forEach((trajectory, row) => {
    const values = logProbs[row] as Float32Array;
    if (values.length !== trajectory.response.length) {
      throw new AipoError({ code: 'SHAPE_MISMATCH', message: `row ${row}: ${values.length} log-probs for ${trajectory.response.length} tokens` });
    }
    trajectory.sources.forEach((source, t) => {
      const index = row * sequenceLength + t;
      const logProb = values[t] ?? 0;
      current[index] = logProb;
      // only policy tokens have a π_old; the others' ratio is never formed
      old[index] = source === TokenSource.policy ? (trajectory.oldLogProbs[t] ?? logProb) : logProb;
      sourceMask[index] = source;
      if (reference && klMask && source === TokenSource.policy) {
        // KL only where the token was sampled from the policy: k1/k3 are estimates of KL(π_θ‖π_ref)
        // under samples of π; inserted agent text and LUFFY's traces are not such samples
        reference[index] = refLogProbs?.[row]?.[t] ?? logProb;
        klMask[index] = 1;
      }
      const trained = source !== TokenSource.agent || config.aipo.trainOnAgentTokens;
      lossMask[index] = trained ? 1 : 0;
      if (source === TokenSource.offPolicy) {
        offSum += Math.exp(logProb);
        offCount += 1;
      } else if (source === TokenSource.agent && trained) {
        agentSum += Math.exp(logProb);
        agentCount += 1;
      }
    });
  });
  const result = policyLoss({
    loss: 'ppo-clip',
    batchSize,
    sequenceLength,
    logProbs: current,
    oldLogProbs: old,
    sequenceAdvantages: Float32Array.from(advantages),
    lossMask,
    sourceMask,
    aggregation: RECIPE_AGGREGATION[config.loss.aggregation],
    normConstant: config.maxResponseTokens,
    options: {
      clipEpsLow: config.loss.clipLow,
      clipEpsHigh: config.loss.clipHigh,
      clip: !config.loss.disableClip,
      gradientPreservingClip: config.loss.gradientPreservingClip,
    },
    offPolicy: { shaping: { fn: 'p/(p+gamma)', gamma: config.luffy.gamma } },
    agent: { coefficient: 'identity', floor: config.aipo.coefficientFloor, pessimistic: true, weight: config.aipo.agentTokenWeight },
  });
  const { diagnostics } = result;
  let klReference = Number.NaN;
  if (reference && klMask) {
    // β·agg(KL) with the policy loss's aggregation (as verl does); its ∂/∂log π_θ adds to the weights
    const kl = klPenalty({
      placement: 'loss',
      coefficient: config.loss.klCoefficient,
      estimator: config.loss.klEstimator,
      logProbs: current,
      refLogProbs: reference,
      mask: klMask,
      batchSize,
      sequenceLength,
      aggregation: { mode: RECIPE_AGGREGATION[config.loss.aggregation], normConstant: config.maxResponseTokens },
    });
    for (let index = 0; index < kl.gradLogProbs.length; index += 1) result.gradLogProbs[index] = (result.gradLogProbs[index] ?? 0) + (kl.gradLogProbs[index] ?? 0);
    klReference = kl.diagnostics.tokenCount > 0 ? kl.diagnostics.meanKl : Number.NaN;
  }
  return {
    weights: trajectories.map((trajectory, row) => result.gradLogProbs.slice(row * sequenceLength, row * sequenceLength + trajectory.response.length)),
    stats: {
      ratioMean: diagnostics.policyTokenCount > 0 ? diagnostics.ratioMean : 1,
      ratioMax: diagnostics.ratioMax,
      clipFractionLow: diagnostics.clipFractionLow,
      clipFractionHigh: diagnostics.clipFractionHigh,
      offPolicyProbabilityMean: offCount > 0 ? offSum / offCount : Number.NaN,
      agentProbabilityMean: agentCount > 0 ? agentSum / agentCount : Number.NaN,
      agentFloorFraction: diagnostics.agentFloorFraction,
      lossTokens: diagnostics.tokenCount,
      klReference,
    },
  };
}
