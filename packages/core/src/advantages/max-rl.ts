import type { AdvantageEstimator } from './advantage-estimator';
import { mapGroupRelative } from './group-relative';

/**
 * MaxRL (prime-rl `max_rl`): mean-normalised advantage A_i = (R_i - mu_g) / mu_g, and 0 when mu_g <= 0
 * (a group without success carries no signal under this normalisation).
 */
export const maxRlEstimator: AdvantageEstimator = {
  id: 'maxrl',
  description: 'mean-normalised reward: (R - mean_g) / mean_g, 0 when mean_g <= 0',
  level: 'sequence',
  compute(context) {
    const { mean } = context.groups;
    return {
      advantages: mapGroupRelative(context, (reward, group) => {
        const baseline = mean[group] as number;
        return baseline > 0 ? (reward - baseline) / baseline : 0;
      }),
    };
  },
};
