import type { AdvantageEstimator } from './advantage-estimator';
import { mapGroupRelative } from './group-relative';

/**
 * OPO (On-Policy RL with Optimal reward baseline, arXiv 2505.23585; verl `opo`): the baseline is the
 * length-weighted group mean b_g = sum_i L_i*R_i / sum_i L_i, and A_i = R_i - b_g.
 */
export const opoEstimator: AdvantageEstimator = {
  id: 'opo',
  description: 'length-weighted group baseline: R - sum(L*R)/sum(L)',
  level: 'sequence',
  compute(context) {
    const { rewards, rowLengths, groups } = context;
    const weightedSum = new Float64Array(groups.count);
    const lengthSum = new Float64Array(groups.count);
    for (let row = 0; row < rewards.length; row++) {
      if (groups.member[row] === 0) continue;
      const reward = rewards[row] as number;
      const group = groups.groupOf[row] as number;
      const length = rowLengths[row] as number;
      weightedSum[group] = (weightedSum[group] as number) + length * reward;
      lengthSum[group] = (lengthSum[group] as number) + length;
    }
    return {
      advantages: mapGroupRelative(context, (reward, group) => {
        const total = lengthSum[group] as number;
        // every member empty: fall back to the plain mean (the length weights are all zero)
        const baseline = total > 0 ? (weightedSum[group] as number) / total : (groups.mean[group] as number);
        return reward - baseline;
      }),
    };
  },
};
