import {
  CLIP_DUAL,
  CLIP_HIGH,
  CLIP_LOW,
  CLIP_NONE,
  type PolicyLossDefinition,
  type ResolvedPolicyLossOptions,
  type TokenLossInput,
  type TokenLossOutput,
} from './policy-loss-definition';
import { ppoClipTokenMean } from './ppo-clip-token-mean';

/**
 * PPO clipped surrogate (Schulman et al. 2017, arXiv 1707.06347) with separate low/high widths
 * (DAPO clip-higher, arXiv 2503.14476), optional dual-clip for A<0 (Ye et al. 2019, arXiv 1912.09729)
 * and optional gradient-preserving clip (GPPO, arXiv 2508.07629; the AIPO prototype's dp_actor.py):
 * l = max(-A*r, -A*clip(r, 1-eps_l, 1+eps_h)), then min(l, -A*c) when A<0.
 */
export function ppoClipToken(input: TokenLossInput, options: ResolvedPolicyLossOptions, out: TokenLossOutput): void {
  const { ratio, advantage } = input;
  const unclipped = -advantage * ratio;
  out.clip = CLIP_NONE;
  out.value = unclipped;
  out.gradLogRatio = unclipped;
  if (options.clip) {
    const lower = 1 - options.clipLow;
    const upper = 1 + options.clipHigh;
    const bound = Math.min(Math.max(ratio, lower), upper);
    const clipped = -advantage * bound;
    if (clipped > unclipped) {
      out.value = clipped;
      // d(bound * r/sg(r))/dlog r = bound: the clipped token still learns, scaled by the bound
      out.gradLogRatio = options.gradientPreservingClip ? clipped : 0;
      out.clip = ratio < lower ? CLIP_LOW : CLIP_HIGH;
    }
  }
  // dual-clip applies with or without the PPO clip (an explicit dualClip is always honoured)
  if (advantage < 0) {
    const cap = -advantage * options.dualClip;
    if (out.value > cap) {
      out.value = cap;
      out.gradLogRatio = options.gradientPreservingClip ? cap : 0;
      out.clip = CLIP_DUAL;
    }
  }
}

export const ppoClipLoss: PolicyLossDefinition = {
  id: 'ppo-clip',
  description: 'PPO clipped surrogate: low/high eps, optional dual-clip and gradient-preserving clip',
  ratioLevel: 'token',
  token: ppoClipToken,
  fusedTokenMean: ppoClipTokenMean,
};

/**
 * GSPO (Zheng et al. 2025, arXiv 2507.18071): the PPO clip applied to the sequence ratio
 * s_i = exp(mean_t (logπ - logπ_old)), log s clamped to ±10 as verl does. The paper uses tiny clip
 * widths (3e-4 / 4e-4); pass them as clipEpsLow / clipEpsHigh.
 */
export const gspoLoss: PolicyLossDefinition = {
  id: 'gspo',
  description: 'PPO clip on the sequence-level geometric-mean ratio (GSPO)',
  ratioLevel: 'sequence',
  defaultAggregation: 'seq-mean-token-mean',
  token: ppoClipToken,
};
