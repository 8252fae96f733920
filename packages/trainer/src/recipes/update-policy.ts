import { AipoError, type Rng, shuffle, TokenSource } from '@aipo/core';
import { computePolicyGradientWeights, RECIPE_AGGREGATION, type WeightStats } from './policy-gradient-weights';
import type { RecipeConfig } from './recipe-config';
import type { RecipePolicy } from './recipe-policy';
import type { Trajectory } from './trajectory';

/** What one batch update measured. */
export interface UpdateStats extends WeightStats {
  /** mean global gradient norm (before clipping) over the updates */
  gradNorm: number;
  /** mean entropy (nats) of π_θ at policy-token positions, before the update */
  entropy: number;
  /** k3 estimate of KL(π_old ‖ π_θ) on policy tokens after all updates (how far the step moved) */
  klOldNew: number;
  /** mean entropy (nats) over the positions that got the entropy bonus (null when it is off) */
  entropyBonusEntropy: number | null;
  /** sequences trained on */
  trainedSequences: number;
  /** tokens trained on (loss tokens) */
  trainedTokens: number;
  /** wall time of scoring + weight computation + optimizer steps (ms), for throughput */
  updateMs: number;
}

/**
 * Split the batch into `updatesPerBatch` minibatches (whole groups stay together only by chance;
 * advantages are already computed) and take one step on each: score π_θ, turn the recipe's loss
 * into per-token weights, step. The first minibatch sees ratio 1; later ones see the policy the
 * earlier ones produced, which is where PPO clipping acts.
 */
export async function updatePolicy(options: {
  policy: RecipePolicy;
  trajectories: readonly Trajectory[];
  advantages: readonly number[];
  config: RecipeConfig;
  rng: Rng;
  /** the frozen reference policy of the KL term (required when `loss.klCoefficient` > 0) */
  reference?: Pick<RecipePolicy, 'score'>;
}): Promise<UpdateStats> {
  const { policy, trajectories, advantages, config, rng, reference } = options;
  if (config.loss.klCoefficient > 0 && reference === undefined) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'loss.klCoefficient > 0 needs a reference policy' });
  }
  const entropyCoefficient = config.loss.entropyCoefficient;
  if (entropyCoefficient > 0 && !policy.supportsEntropyBonus) {
    throw new AipoError({ code: 'INVALID_CONFIG', message: `${policy.modelId} does not support the entropy bonus; set loss.entropyCoefficient to 0` });
  }
  const started = performance.now();
  const order = shuffle(
    rng,
    trajectories.map((_, index) => index),
  );
  const updates = Math.min(config.loss.updatesPerBatch, Math.max(1, order.length));
  const totals = { ratio: 0, ratioMax: 0, low: 0, high: 0, off: 0, offCount: 0, agent: 0, agentCount: 0, floor: 0, tokens: 0, grad: 0, entropy: 0, entropyCount: 0, kl: 0, klCount: 0, bonus: 0, bonusCount: 0 };
  for (let update = 0; update < updates; update += 1) {
    const indices = order.filter((_, position) => position % updates === update);
    if (indices.length === 0) continue;
    const batch = indices.map((index) => trajectories[index] as Trajectory);
    const sequences = batch.map((trajectory) => ({ prompt: trajectory.prompt, response: trajectory.response }));
    const scores = await policy.score(sequences);
    const refLogProbs = config.loss.klCoefficient > 0 ? (await (reference as Pick<RecipePolicy, 'score'>).score(sequences)).logProbs : undefined;
    if (update === 0) {
      for (const [row, trajectory] of batch.entries()) {
        for (const [t, source] of trajectory.sources.entries()) {
          if (source !== TokenSource.policy) continue;
          totals.entropy += scores.entropies[row]?.[t] ?? 0;
          totals.entropyCount += 1;
        }
      }
    }
    const { weights, stats } = computePolicyGradientWeights({
      trajectories: batch,
      logProbs: scores.logProbs,
      advantages: indices.map((index) => advantages[index] ?? 0),
      ...(refLogProbs ? { refLogProbs } : {}),
      config,
    });
    // the bonus covers the tokens in the loss (verl takes the entropy over its response mask)
    const bonusMask = batch.map((trajectory) => Uint8Array.from(trajectory.sources, (source) => (source !== TokenSource.agent || config.aipo.trainOnAgentTokens ? 1 : 0)));
    const { gradNorm } = await policy.trainStep({
      sequences,
      weights,
      learningRate: config.learningRate,
      ...(entropyCoefficient > 0
        ? { entropyBonus: { coefficient: entropyCoefficient, mask: bonusMask, aggregation: RECIPE_AGGREGATION[config.loss.aggregation], normConstant: config.maxResponseTokens } }
        : {}),
    });
    if (entropyCoefficient > 0) {
      for (const [row, mask] of bonusMask.entries()) {
        mask.forEach((value, t) => {
          if (value === 0) return;
          totals.bonus += scores.entropies[row]?.[t] ?? 0;
          totals.bonusCount += 1;
        });
      }
    }
    const policyTokens = batch.reduce((sum, trajectory) => sum + trajectory.sources.filter((source) => source === TokenSource.policy).length, 0);
    const offTokens = batch.reduce((sum, trajectory) => sum + trajectory.sources.filter((source) => source === TokenSource.offPolicy).length, 0);
    const agentTokens = batch.reduce((sum, trajectory) => sum + trajectory.sources.filter((source) => source === TokenSource.agent).length, 0);
    totals.ratio += stats.ratioMean * policyTokens;
    totals.ratioMax = Math.max(totals.ratioMax, stats.ratioMax);
    totals.low += stats.clipFractionLow * policyTokens;
    totals.high += stats.clipFractionHigh * policyTokens;
    if (offTokens > 0) {
      totals.off += stats.offPolicyProbabilityMean * offTokens;
      totals.offCount += offTokens;
    }
    if (agentTokens > 0 && config.aipo.trainOnAgentTokens) {
      totals.agent += stats.agentProbabilityMean * agentTokens;
      totals.floor += stats.agentFloorFraction * agentTokens;
      totals.agentCount += agentTokens;
    }
    if (Number.isFinite(stats.klReference)) {
      totals.kl += stats.klReference * policyTokens;
      totals.klCount += policyTokens;
    }
    totals.tokens += stats.lossTokens;
    totals.grad += gradNorm;
  }
  const policyTokenCount = trajectories.reduce((sum, trajectory) => sum + trajectory.sources.filter((source) => source === TokenSource.policy).length, 0);
  const updateMs = performance.now() - started;
  const klOldNew = await measureKl(policy, trajectories);
  return {
    ratioMean: policyTokenCount > 0 ? totals.ratio / policyTokenCount : 1,
    ratioMax: totals.ratioMax,
    clipFractionLow: policyTokenCount > 0 ? totals.low / policyTokenCount : 0,
    clipFractionHigh: policyTokenCount > 0 ? totals.high / policyTokenCount : 0,
    offPolicyProbabilityMean: totals.offCount > 0 ? totals.off / totals.offCount : Number.NaN,
    agentProbabilityMean: totals.agentCount > 0 ? totals.agent / totals.agentCount : Number.NaN,
    agentFloorFraction: totals.agentCount > 0 ? totals.floor / totals.agentCount : 0,
    lossTokens: totals.tokens,
    klReference: totals.klCount > 0 ? totals.kl / totals.klCount : Number.NaN,
    entropyBonusEntropy: totals.bonusCount > 0 ? totals.bonus / totals.bonusCount : null,
    gradNorm: totals.grad / updates,
    entropy: totals.entropyCount > 0 ? totals.entropy / totals.entropyCount : 0,
    klOldNew,
    trainedSequences: trajectories.length,
    trainedTokens: totals.tokens,
    updateMs,
  };
}

/** k3 = r − 1 − log r with r = π_θ/π_old (Schulman's low-variance unbiased KL estimator), mean over policy tokens. */
async function measureKl(policy: RecipePolicy, trajectories: readonly Trajectory[]): Promise<number> {
  if (trajectories.length === 0) return 0;
  const scores = await policy.score(trajectories.map((trajectory) => ({ prompt: trajectory.prompt, response: trajectory.response })));
  let sum = 0;
  let count = 0;
  for (const [row, trajectory] of trajectories.entries()) {
    for (const [t, source] of trajectory.sources.entries()) {
      if (source !== TokenSource.policy) continue;
      const logRatio = (scores.logProbs[row]?.[t] ?? 0) - (trajectory.oldLogProbs[t] ?? 0);
      sum += Math.exp(logRatio) - 1 - logRatio;
      count += 1;
    }
  }
  return count > 0 ? sum / count : 0;
}
