import { AipoError } from '../errors/aipo-error';
import type { AdvantageEstimator } from './advantage-estimator';
import { whitenAdvantages } from './masked-whiten';
import { lastMaskedColumn, tokenReward } from './token-rewards';

/**
 * GAE (Schulman et al. 2016, arXiv 1506.02438): delta_t = r_t + gamma*V_{t+1} - V_t,
 * A_t = delta_t + gamma*lambda*A_{t+1}, returns = A + V. Masked-out positions inside a row
 * (multi-turn observation or agent tokens) are skipped: V_{t+1} and A_{t+1} come from the next
 * masked-in token, as verl's `compute_gae_advantage_return` does. Advantages are then whitened.
 */
export const gaeEstimator: AdvantageEstimator = {
  id: 'gae',
  description: 'generalised advantage estimation with critic values (gamma, lambda), whitened',
  level: 'token',
  requires: ['values'],
  compute(context, output) {
    const { lossMask, sequenceLength, rewards, options } = context;
    const values = context.values;
    if (values === undefined) throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'gae needs values [B,T]' });
    const gamma = options.gamma ?? 1;
    const lambda = options.lambda ?? 1;
    for (let row = 0; row < rewards.length; row++) {
      if (Number.isNaN(rewards[row] as number)) continue;
      const last = lastMaskedColumn(lossMask, row, sequenceLength);
      let nextValue = 0;
      let nextAdvantage = 0;
      for (let column = last; column >= 0; column--) {
        const index = row * sequenceLength + column;
        if (lossMask[index] === 0) continue;
        const value = values[index] as number;
        const delta = tokenReward(context, row, column, last) + gamma * nextValue - value;
        nextAdvantage = delta + gamma * lambda * nextAdvantage;
        nextValue = value;
        output.advantages[index] = nextAdvantage;
        output.returns[index] = nextAdvantage + value;
      }
    }
    whitenAdvantages(context, output.advantages);
  },
};
