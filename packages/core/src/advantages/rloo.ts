import type { AdvantageEstimator } from './advantage-estimator';
import { mapGroupRelative } from './group-relative';

/**
 * RLOO (Ahmadian et al. 2024, "Back to Basics", arXiv 2402.14740): the baseline of sample i is the mean
 * of the other n-1 rewards, A_i = R_i - sum_{j!=i} R_j / (n-1) = n/(n-1) * (R_i - mu_g).
 */
export const rlooEstimator: AdvantageEstimator = {
  id: 'rloo',
  description: 'leave-one-out baseline: R - mean of the other group members',
  level: 'sequence',
  compute(context) {
    const { mean, size } = context.groups;
    return {
      advantages: mapGroupRelative(context, (reward, group, row) => {
        // a sequence outside the statistics has no own reward inside the mean to leave out
        if (context.groups.member[row] === 0) return reward - (mean[group] as number);
        const members = size[group] as number;
        return (members / (members - 1)) * (reward - (mean[group] as number));
      }),
    };
  },
};
