import type { AdvantageEstimator } from './advantage-estimator';
import { mapGroupRelative } from './group-relative';
import { whitenAdvantages } from './masked-whiten';
import { writeDiscountedReturns } from './token-rewards';

/**
 * REINFORCE++ (arXiv 2501.03262; verl `reinforce_plus_plus`, OpenRLHF `reinforce`): discounted
 * return G_t = sum_{k>=t} gamma^(k-t) r_k over response tokens, whitened over the whole batch.
 * Returns are G before whitening.
 */
export const reinforcePlusPlusEstimator: AdvantageEstimator = {
  id: 'reinforce++',
  description: 'discounted return whitened over the batch (REINFORCE++)',
  level: 'token',
  compute(context, output) {
    const { sequenceLength, rewards, options } = context;
    const gamma = options.gamma ?? 1;
    for (let row = 0; row < rewards.length; row++) {
      if (Number.isNaN(rewards[row] as number)) continue;
      writeDiscountedReturns(context, row, gamma, output.returns);
      // advantages start as G (zero off the mask, like returns), then get whitened
      output.advantages.set(output.returns.subarray(row * sequenceLength, (row + 1) * sequenceLength), row * sequenceLength);
    }
    whitenAdvantages(context, output.advantages);
  },
};

/**
 * REINFORCE++-baseline (verl `reinforce_plus_plus_baseline`, OpenRLHF `reinforce_baseline`): the
 * group-centred reward R_i - mu_g broadcast over tokens, then whitened over the batch. Whitening
 * shifts by the batch mean, so zero-variance groups end up with small non-zero advantages, as in verl.
 */
export const reinforcePlusPlusBaselineEstimator: AdvantageEstimator = {
  id: 'reinforce++-baseline',
  description: 'group-centred reward broadcast over tokens, whitened over the batch',
  level: 'token',
  compute(context, output) {
    const { lossMask, sequenceLength, rewards, groups } = context;
    const centred = mapGroupRelative(context, (reward, group) => reward - (groups.mean[group] as number));
    for (let row = 0; row < rewards.length; row++) {
      if (Number.isNaN(rewards[row] as number)) continue;
      for (let index = row * sequenceLength; index < (row + 1) * sequenceLength; index++) {
        if (lossMask[index] === 0) continue;
        output.advantages[index] = centred[row] as number;
        output.returns[index] = centred[row] as number;
      }
    }
    whitenAdvantages(context, output.advantages);
  },
};
