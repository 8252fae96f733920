import type { AdvantageEstimator } from './advantage-estimator';
import { mapGroupRelative } from './group-relative';

/**
 * GPG (Group Policy Gradient, arXiv 2504.02546; verl `gpg`): A_i = alpha * (R_i - mu_g) / F with
 * alpha = B / max(1, #{i : R_i != 0}) over the scorable sequences of the batch and F = 1.
 */
export const gpgEstimator: AdvantageEstimator = {
  id: 'gpg',
  description: 'group-centred reward scaled by B / #nonzero rewards (GPG)',
  level: 'sequence',
  compute(context) {
    const { rewards, groups } = context;
    let scorable = 0;
    let nonZero = 0;
    for (const reward of rewards) {
      if (Number.isNaN(reward)) continue;
      scorable++;
      if (reward !== 0) nonZero++;
    }
    const alpha = scorable / Math.max(1, nonZero);
    return {
      advantages: mapGroupRelative(context, (reward, group) => alpha * (reward - (groups.mean[group] as number))),
    };
  },
};
