import { assertNumber } from '../batch/assert-finite';
import { CLIP_HIGH, CLIP_LOW, CLIP_NONE, type PolicyLossDefinition } from './policy-loss-definition';

/** Knobs of the DPPO binary-TV + KL loss. */
export interface DppoLossOptions {
  /** drop an A>0 token when p - p_inf > this (the policy already moved up past the trust region); default 0.2 */
  deltaHigh?: number;
  /** drop an A<0 token when p - p_inf < -this; default 0.2 */
  deltaLow?: number;
  /** tau_kl: weight of the (log r_inf)^2 penalty against the inference policy; default 1e-3 */
  klCoef?: number;
}

/**
 * DPPO binary-TV + KL (prime-rl's default loss, rl-frameworks.md table B): the trust region is a
 * total-variation test on the sampled token's probability, p - p_inf with p_inf the probability the
 * rollout engine gave it, instead of a ratio clip. A token moving in the direction of its advantage
 * past delta is dropped (binary mask, no gradient); every token pays tau_kl*(log r_inf)^2 (k2 against
 * the inference policy). Pass the rollout log-probs as `oldLogProbs` so r = r_inf = exp(lp - lp_roll):
 *   l = -keep*A*r_inf + tau_kl*(log r_inf)^2,   ∂l/∂log r = -keep*A*r_inf + 2*tau_kl*log r_inf.
 * The defaults are ours (the reference table does not pin prime-rl's); set them to match a run.
 */
export function createDppoLoss(options: DppoLossOptions = {}): PolicyLossDefinition {
  const deltaHigh = options.deltaHigh ?? 0.2;
  const deltaLow = options.deltaLow ?? 0.2;
  const klCoef = options.klCoef ?? 1e-3;
  assertNumber('deltaHigh', deltaHigh, (value) => value >= 0, '>= 0');
  assertNumber('deltaLow', deltaLow, (value) => value >= 0, '>= 0');
  assertNumber('klCoef', klCoef, (value) => value >= 0, '>= 0');
  return {
    id: 'dppo',
    description: 'binary total-variation trust region plus k2 penalty against the inference policy',
    ratioLevel: 'token',
    token(input, _options, out) {
      const { ratio, advantage, logProb } = input;
      const p = Math.exp(logProb);
      // p_inf = p / r_inf, so the TV gap needs no extra input
      const gap = p - p / ratio;
      const logRatio = Math.log(ratio);
      let keep = 1;
      out.clip = CLIP_NONE;
      if (advantage > 0 && gap > deltaHigh) {
        keep = 0;
        out.clip = CLIP_HIGH;
      } else if (advantage < 0 && gap < -deltaLow) {
        keep = 0;
        out.clip = CLIP_LOW;
      }
      out.value = -keep * advantage * ratio + klCoef * logRatio * logRatio;
      out.gradLogRatio = -keep * advantage * ratio + 2 * klCoef * logRatio;
    },
  };
}

/** DPPO with the default knobs, as registered under 'dppo'. */
export const dppoLoss: PolicyLossDefinition = /* @__PURE__ */ createDppoLoss();
