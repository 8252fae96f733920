import { AipoError, TokenSource } from '@aipo/core';
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
}

export interface PolicyGradientWeightsOptions {
  /** the minibatch */
  trajectories: readonly Trajectory[];
  /** per trajectory, log π_θ of its response tokens (current policy) */
  logProbs: readonly Float32Array[];
  /** per trajectory, its sequence advantage Â_i */
  advantages: readonly number[];
  /** the recipe's loss and method settings */
  config: Pick<RecipeConfig, 'loss' | 'luffy' | 'aipo' | 'maxResponseTokens'>;
}

/**
 * Per-token gradient weights w = ∂L/∂log π_θ of the recipes' objective (the trainer minimises
 * Σ sg(w)·log π_θ). Each token source gets its paper's term:
 * - policy tokens: PPO-clip L = −min(r·Â, clip(r, 1−ε_l, 1+ε_h)·Â), r = π_θ/π_old, so w = −Â·r
 *   on the unclipped branch and 0 on the clipped one (or −Â·bound with a gradient-preserving
 *   clip, AIPO prototype dp_actor.py; algorithms.md §1.3);
 * - off-policy tokens (LUFFY, arXiv 2504.14945, mix_core_alg.py): L = −Â·f(p), f(p) = p/(p+γ), so
 *   w = −Â·γp/(p+γ)², unclipped, with the behaviour probability taken as 1;
 * - agent tokens (AIPO, arXiv 2605.08401; coefficient from the prototype, §1.3): the IS coefficient
 *   is π_θ itself with a gradient-preserving floor, L = max(−Â·p, −Â·max(p, c_min)_gp), so w = −λÂ·p
 *   for Â ≥ 0 and −λÂ·max(p, c_min) for Â < 0 (the floor keeps rejected agent text from vanishing).
 * Aggregation divides by the batch's loss tokens (token-mean, DAPO), by rows × row length
 * (seq-mean-token-mean, GRPO paper) or by rows × maxResponseTokens (Dr.GRPO's constant).
 */
export function computePolicyGradientWeights(options: PolicyGradientWeightsOptions): { weights: Float32Array[]; stats: WeightStats } {
  const { trajectories, logProbs, advantages, config } = options;
  if (logProbs.length !== trajectories.length || advantages.length !== trajectories.length) {
    throw new AipoError({ code: 'SHAPE_MISMATCH', message: 'trajectories, logProbs and advantages must have the same length' });
  }
  const { clipLow, clipHigh, disableClip, gradientPreservingClip, aggregation } = config.loss;
  const { gamma } = config.luffy;
  const { coefficientFloor, agentTokenWeight, trainOnAgentTokens } = config.aipo;
  const inLoss = (source: number) => source !== TokenSource.agent || trainOnAgentTokens;
  const rowTokens = trajectories.map((trajectory) => trajectory.sources.filter(inLoss).length);
  const totalTokens = rowTokens.reduce((a, b) => a + b, 0);
  const rows = trajectories.length;
  let ratioSum = 0;
  let ratioMax = 0;
  let policyTokens = 0;
  let clippedLow = 0;
  let clippedHigh = 0;
  let offSum = 0;
  let offCount = 0;
  let agentSum = 0;
  let agentCount = 0;
  let agentFloored = 0;
  const weights = trajectories.map((trajectory, row) => {
    const advantage = advantages[row] ?? 0;
    const current = logProbs[row] as Float32Array;
    if (current.length !== trajectory.response.length) {
      throw new AipoError({ code: 'SHAPE_MISMATCH', message: `row ${row}: ${current.length} log-probs for ${trajectory.response.length} tokens` });
    }
    const scale =
      aggregation === 'token-mean'
        ? 1 / Math.max(1, totalTokens)
        : aggregation === 'seq-mean-token-mean'
          ? 1 / (rows * Math.max(1, rowTokens[row] ?? 0))
          : 1 / (rows * config.maxResponseTokens);
    const rowWeights = new Float32Array(current.length);
    trajectory.sources.forEach((source, t) => {
      const logProb = current[t] ?? 0;
      const probability = Math.exp(logProb);
      let weight = 0;
      if (source === TokenSource.policy) {
        const ratio = Math.exp(logProb - (trajectory.oldLogProbs[t] ?? logProb));
        policyTokens += 1;
        ratioSum += ratio;
        ratioMax = Math.max(ratioMax, ratio);
        const low = !disableClip && advantage < 0 && ratio < 1 - clipLow;
        const high = !disableClip && advantage > 0 && ratio > 1 + clipHigh;
        if (low) clippedLow += 1;
        if (high) clippedHigh += 1;
        if (!low && !high) weight = -advantage * ratio;
        else if (gradientPreservingClip) weight = -advantage * (low ? 1 - clipLow : 1 + clipHigh);
      } else if (source === TokenSource.offPolicy) {
        offSum += probability;
        offCount += 1;
        weight = (-advantage * gamma * probability) / (probability + gamma) ** 2;
      } else if (trainOnAgentTokens) {
        agentSum += probability;
        agentCount += 1;
        const floored = advantage < 0 && probability < coefficientFloor;
        if (floored) agentFloored += 1;
        weight = -agentTokenWeight * advantage * (advantage < 0 ? Math.max(probability, coefficientFloor) : probability);
      }
      rowWeights[t] = weight * scale;
    });
    return rowWeights;
  });
  return {
    weights,
    stats: {
      ratioMean: policyTokens > 0 ? ratioSum / policyTokens : 1,
      ratioMax,
      clipFractionLow: policyTokens > 0 ? clippedLow / policyTokens : 0,
      clipFractionHigh: policyTokens > 0 ? clippedHigh / policyTokens : 0,
      offPolicyProbabilityMean: offCount > 0 ? offSum / offCount : Number.NaN,
      agentProbabilityMean: agentCount > 0 ? agentSum / agentCount : Number.NaN,
      agentFloorFraction: agentCount > 0 ? agentFloored / agentCount : 0,
      lossTokens: totalTokens,
    },
  };
}
