import { CLIP_NONE, type PolicyLossDefinition } from './policy-loss-definition';

/**
 * SAPO (soft adaptive policy optimisation, arXiv 2511.20347; verl `sapo`, TRL `loss_type="sapo"`):
 * a smooth gate instead of a hard clip, l = -(4/tau) * sigmoid(tau*(r-1)) * A with tau = tauPositive
 * for A>0 and tauNegative otherwise. ∂l/∂log r = -4 * sigma * (1 - sigma) * r * A.
 */
export const sapoLoss: PolicyLossDefinition = {
  id: 'sapo',
  description: 'soft sigmoid gate on the ratio: -(4/tau) * sigmoid(tau*(r-1)) * A',
  ratioLevel: 'token',
  defaultAggregation: 'seq-mean-token-mean',
  token(input, options, out) {
    const { ratio, advantage } = input;
    const tau = advantage > 0 ? options.sapoTauPositive : options.sapoTauNegative;
    const gate = 1 / (1 + Math.exp(-tau * (ratio - 1)));
    out.clip = CLIP_NONE;
    out.value = -(4 / tau) * gate * advantage;
    out.gradLogRatio = -4 * gate * (1 - gate) * ratio * advantage;
  },
};
