import { CLIP_HIGH, CLIP_LOW, CLIP_NONE, type PolicyLossDefinition } from './policy-loss-definition';

/**
 * GMPO (geometric-mean policy optimisation, arXiv 2507.20673; verl `geo_mean`): each token's log r is
 * clipped to [-eps_l, eps_h] only in the direction of sign(A), rho_i = exp(mean_t clipped log r), and
 * l = -A * rho_i. With seq-mean-token-mean this is verl's -mean_t(A) * rho_i per sequence.
 */
export const gmpoLoss: PolicyLossDefinition = {
  id: 'gmpo',
  description: 'geometric mean of sign-aware clipped token ratios: -A * exp(mean clipped log r)',
  ratioLevel: 'sequence',
  defaultAggregation: 'seq-mean-token-mean',
  sequenceLogRatio(logRatio, advantage, options, out) {
    out.clip = CLIP_NONE;
    if (advantage > 0 && logRatio > options.clipHigh) {
      out.clip = CLIP_HIGH;
      return options.clipHigh;
    }
    if (advantage < 0 && logRatio < -options.clipLow) {
      out.clip = CLIP_LOW;
      return -options.clipLow;
    }
    return logRatio;
  },
  token(input, _options, out) {
    out.clip = CLIP_NONE;
    out.value = -input.advantage * input.ratio;
    out.gradLogRatio = out.value;
  },
};
