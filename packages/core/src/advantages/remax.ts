import { AipoError } from '../errors/aipo-error';
import type { AdvantageEstimator } from './advantage-estimator';

/**
 * ReMax (arXiv 2310.10505; verl `remax`): the baseline is the reward of the greedy rollout of the same
 * prompt, A_i = R_i - b_i; the return is R_i. Needs `rewardBaselines` [B]; groups play no part.
 */
export const remaxEstimator: AdvantageEstimator = {
  id: 'remax',
  description: 'greedy-rollout baseline: R - reward of the greedy response (needs rewardBaselines)',
  level: 'sequence',
  requires: ['rewardBaselines'],
  compute(context) {
    const { rewards } = context;
    const baselines = context.rewardBaselines;
    if (baselines === undefined)
      throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'remax needs rewardBaselines [B]' });
    const advantages = new Float64Array(rewards.length);
    const returns = new Float64Array(rewards.length);
    for (let row = 0; row < rewards.length; row++) {
      const reward = rewards[row] as number;
      if (Number.isNaN(reward)) continue;
      advantages[row] = reward - (baselines[row] as number);
      returns[row] = reward;
    }
    return { advantages, returns };
  },
};
