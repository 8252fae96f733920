import { CLIP_HIGH, CLIP_LOW, CLIP_NONE, type PolicyLossDefinition } from './policy-loss-definition';

/**
 * CISPO (MiniMax-M1, arXiv 2506.13585): l = -sg(clip(r)) * A * logπ, so every token keeps a gradient
 * and clipping only bounds its weight. The clip is [1-clipEpsLow, 1+clipEpsHigh] (verl), or the
 * absolute cap min(r, ratioCapAbs) when that is set (TRL's `epsilon_high` meaning, §3.2 item 11).
 */
export const cispoLoss: PolicyLossDefinition = {
  id: 'cispo',
  description: 'clipped IS-weight policy gradient: -sg(clip(r)) * A * logp',
  ratioLevel: 'token',
  token(input, options, out) {
    const { ratio, advantage, logProb } = input;
    let weight = ratio;
    out.clip = CLIP_NONE;
    if (!Number.isNaN(options.ratioCapAbs)) {
      if (ratio > options.ratioCapAbs) {
        weight = options.ratioCapAbs;
        out.clip = CLIP_HIGH;
      }
    } else if (ratio < 1 - options.clipLow) {
      weight = 1 - options.clipLow;
      out.clip = CLIP_LOW;
    } else if (ratio > 1 + options.clipHigh) {
      weight = 1 + options.clipHigh;
      out.clip = CLIP_HIGH;
    }
    out.value = -weight * advantage * logProb;
    out.gradLogRatio = -weight * advantage;
  },
};
