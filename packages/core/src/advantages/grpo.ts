import type { AdvantageEstimator } from './advantage-estimator';
import { mapGroupRelative } from './group-relative';
import { batchStd } from './group-statistics';

/**
 * GRPO (DeepSeekMath, arXiv 2402.03300): A_i = (R_i - mu_g) / (sigma_g + eps), or R_i - mu_g when
 * `normalizeByStd` is false (Dr.GRPO, arXiv 2503.20783, which removes the difficulty bias of 1/std).
 */
export const grpoEstimator: AdvantageEstimator = {
  id: 'grpo',
  description: 'group-normalised reward: (R - mean_g) / (std_g + eps); normalizeByStd=false gives Dr.GRPO',
  level: 'sequence',
  compute(context) {
    const epsilon = context.options.epsilon ?? 1e-6;
    const divide = context.options.normalizeByStd ?? true;
    const { mean, std } = context.groups;
    return {
      advantages: mapGroupRelative(context, (reward, group) => {
        const centred = reward - (mean[group] as number);
        return divide ? centred / ((std[group] as number) + epsilon) : centred;
      }),
    };
  },
};

/** Dr.GRPO (arXiv 2503.20783): A_i = R_i - mu_g, the group-centred reward without std scaling. */
export const drGrpoEstimator: AdvantageEstimator = {
  id: 'dr-grpo',
  description: 'group-centred reward without std scaling: R - mean_g (Dr.GRPO)',
  level: 'sequence',
  compute(context) {
    const { mean } = context.groups;
    return { advantages: mapGroupRelative(context, (reward, group) => reward - (mean[group] as number)) };
  },
};

/** Batch-std scaling (TRL `scale_rewards="batch"`, PPO-Lite): A_i = (R_i - mu_g) / (sigma_batch + eps). */
export const batchStdEstimator: AdvantageEstimator = {
  id: 'batch-std',
  description: 'group-centred reward scaled by the batch std: (R - mean_g) / (std_batch + eps)',
  level: 'sequence',
  compute(context) {
    const epsilon = context.options.epsilon ?? 1e-6;
    const scale = batchStd(context.rewards, (context.options.std ?? 'unbiased') === 'unbiased') + epsilon;
    const { mean } = context.groups;
    return { advantages: mapGroupRelative(context, (reward, group) => (reward - (mean[group] as number)) / scale) };
  },
};
