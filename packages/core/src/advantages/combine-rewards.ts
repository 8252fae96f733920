import type { FloatArray } from '../batch/float-array';
import { assertLength } from '../batch/policy-batch';
import { AipoError } from '../errors/aipo-error';
import { batchStd, computeGroupStatistics } from './group-statistics';

/**
 * Two ways to turn K reward components into one scalar per sequence (rl-frameworks.md table A):
 * - `sum-then-normalize`: R = sum_k w_k R_k; the estimator then normalises R (TRL `reward_weights`)
 * - `normalize-then-sum` (GDPO, NeMo-RL `GDPOAdvantageEstimator`): R = sum_k w_k (R_k - mu_gk)/(sigma_gk + eps),
 *   then a batch z-score. Pair it with `dr-grpo` to reproduce GDPO exactly (R is already group-centred).
 */
export type RewardCombination = 'sum-then-normalize' | 'normalize-then-sum';

export interface MultiReward {
  /** K arrays of [B] rewards; NaN in any component makes the sequence unscorable */
  components: FloatArray[];
  /** [K] weights; default all 1 */
  weights?: number[];
  combine: RewardCombination;
  /** normalize-then-sum: eps added to each std; default 1e-4 (GDPO) */
  epsilon?: number;
}

export interface CombineRewardsOptions extends MultiReward {
  /** [B] group ids used by normalize-then-sum; absent = one group */
  groupIds?: Int32Array;
}

/** Combine K reward components into [B] float64 rewards (NaN stays NaN). */
export function combineRewards(options: CombineRewardsOptions): Float64Array {
  const { components, combine, groupIds } = options;
  if (components.length === 0) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'combineRewards needs at least one reward component' });
  }
  const batchSize = (components[0] as FloatArray).length;
  for (const [index, component] of components.entries())
    assertLength(`rewards.components[${index}]`, component, batchSize);
  assertLength('groupIds', groupIds, batchSize);
  const weights = options.weights ?? components.map(() => 1);
  assertLength('rewards.weights', weights, components.length);
  if (weights.some((weight) => !Number.isFinite(weight))) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'reward weights must be finite numbers' });
  }
  const combined = new Float64Array(batchSize);
  if (combine === 'sum-then-normalize') {
    components.forEach((component, index) => {
      const weight = weights[index] as number;
      for (let row = 0; row < batchSize; row++)
        combined[row] = (combined[row] as number) + weight * (component[row] as number);
    });
    return combined;
  }
  if (combine !== 'normalize-then-sum') {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `unknown reward combination "${String(combine)}" (available: sum-then-normalize, normalize-then-sum)`,
    });
  }
  const epsilon = options.epsilon ?? 1e-4;
  components.forEach((component, index) => {
    const rewards = Float64Array.from(component);
    const groups = computeGroupStatistics({ rewards, groupIds, settings: {} });
    const weight = weights[index] as number;
    for (let row = 0; row < batchSize; row++) {
      const group = groups.groupOf[row] as number;
      const centred = (rewards[row] as number) - (groups.mean[group] as number);
      combined[row] = (combined[row] as number) + (weight * centred) / ((groups.std[group] as number) + epsilon);
    }
  });
  let count = 0;
  let sum = 0;
  for (const value of combined) {
    if (Number.isNaN(value)) continue;
    count++;
    sum += value;
  }
  const mean = count > 0 ? sum / count : 0;
  const scale = batchStd(combined, true) + epsilon;
  for (let row = 0; row < batchSize; row++) combined[row] = ((combined[row] as number) - mean) / scale;
  return combined;
}
