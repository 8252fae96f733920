import type { AdvantageEstimator } from './advantage-estimator';
import { mapGroupRelative } from './group-relative';

/**
 * GRPO-pass@k (verl `grpo_passk`, after "Pass@k Training", arXiv 2508.10751): in each group only the
 * best response gets A = R_max - R_second (divided by sigma_g + eps when `normalizeByStd`), every
 * other response gets 0. Two equal maxima give 0 to the whole group (rl-frameworks.md §3.2 item 12).
 */
export const grpoPassAtKEstimator: AdvantageEstimator = {
  id: 'grpo-pass@k',
  description: 'only the best response of each group learns: A = R_max - R_second',
  level: 'sequence',
  compute(context) {
    const { rewards, groups, options } = context;
    const epsilon = options.epsilon ?? 1e-6;
    const divide = options.normalizeByStd ?? true;
    const best = new Int32Array(groups.count).fill(-1);
    const first = new Float64Array(groups.count).fill(Number.NEGATIVE_INFINITY);
    const second = new Float64Array(groups.count).fill(Number.NEGATIVE_INFINITY);
    for (let row = 0; row < rewards.length; row++) {
      if (groups.member[row] === 0) continue;
      const reward = rewards[row] as number;
      const group = groups.groupOf[row] as number;
      if (reward > (first[group] as number)) {
        second[group] = first[group] as number;
        first[group] = reward;
        best[group] = row;
      } else if (reward > (second[group] as number) || reward === first[group]) {
        // an equal maximum lands in `second`, so the margin becomes 0
        second[group] = reward;
      }
    }
    return {
      advantages: mapGroupRelative(context, (_reward, group, row) => {
        if (best[group] !== row) return 0;
        const margin = (first[group] as number) - (second[group] as number);
        return divide ? margin / ((groups.std[group] as number) + epsilon) : margin;
      }),
    };
  },
};
