import { assertNumber } from '../batch/assert-finite';
import { AipoError } from '../errors/aipo-error';
import { covarianceSelectionCount, tokenCovariances } from './clip-cov-covariance';
import type { PolicyLossBatchContext, PolicyLossBatchPlan, PolicyLossDefinition } from './policy-loss-definition';
import { ppoClipToken } from './ppo-clip';

/** Knobs of Clip-Cov; defaults are verl's `clip_cov_ratio`, `clip_cov_lb`, `clip_cov_ub`. */
export interface ClipCovOptions {
  /** fraction of the policy tokens whose loss is zeroed, at least one; default 2e-4 */
  ratio?: number;
  /** only tokens with lowerBound < cov < upperBound are candidates; default 1 */
  lowerBound?: number;
  /** default 5 */
  upperBound?: number;
}

export interface CovarianceSelection {
  /** policy tokens whose covariance passed the test (Clip-Cov: also not already clipped) */
  candidateTokenCount: number;
  /** tokens acted on: their loss zeroed (Clip-Cov) or the KL term added (KL-Cov) */
  selectedTokenCount: number;
  /** [B,T] 1 where a token was selected */
  selected: Uint8Array;
}

/**
 * Clip-Cov (arXiv 2505.22617 §4.2; verl `clip_cov`), registered as 'clip-cov': PPO-clip, except
 * that among the tokens the clip did not already bind, those with cov = (A - mean A)(lp - mean lp)
 * in (lb, ub) are the entropy-collapsing ones, and max(1, ratio*N) of them, picked with `input.rng`,
 * get their loss (and so their gradient) zeroed. They stay in the aggregation's token counts, as in
 * verl (a multiplicative 0, not a mask): the batch pre-pass folds the selection into the IS weights.
 * verl's clip_cov has no dual clip, so none is applied unless `options.dualClip` is set.
 */
export const clipCovLoss: PolicyLossDefinition = {
  id: 'clip-cov',
  description: 'PPO-clip with the loss of randomly chosen high-covariance tokens zeroed (needs rng)',
  ratioLevel: 'token',
  token: ppoClipToken,
  prepareBatch: selectClipCovTokens,
};

function selectClipCovTokens({ input, options }: PolicyLossBatchContext): PolicyLossBatchPlan {
  const clipCov = input.options?.clipCov ?? {};
  const ratio = clipCov.ratio ?? 2e-4;
  const lowerBound = clipCov.lowerBound ?? 1;
  const upperBound = clipCov.upperBound ?? 5;
  assertNumber('clipCov.ratio', ratio, (value) => value >= 0 && value <= 1, 'in [0, 1]');
  assertNumber('clipCov.lowerBound', lowerBound, Number.isFinite, 'finite');
  assertNumber('clipCov.upperBound', upperBound, (value) => value > lowerBound, '> lowerBound');
  const { rng } = input;
  if (rng === undefined || typeof rng.next !== 'function') {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: "'clip-cov' needs an rng (createRng(seed))" });
  }
  const { covariance, advantages, policyTokens } = tokenCovariances(input);
  const candidates: number[] = [];
  for (const index of policyTokens) {
    const logRatio =
      input.oldLogProbs === undefined ? 0 : (input.logProbs[index] as number) - (input.oldLogProbs[index] as number);
    const r = Math.exp(Math.max(-options.logRatioClamp, Math.min(options.logRatioClamp, logRatio)));
    const advantage = (advantages[index] as number) * options.advantageScale;
    const clipped = Math.min(Math.max(r, 1 - options.clipLow), 1 + options.clipHigh);
    // verl: clip_by_origin = (pg_losses2 > pg_losses1), the clip already holds this token
    if (-advantage * clipped > -advantage * r) continue;
    const cov = covariance[index] as number;
    if (cov > lowerBound && cov < upperBound) candidates.push(index);
  }
  const take = Math.min(covarianceSelectionCount(ratio, policyTokens.length), candidates.length);
  const selected = new Uint8Array(covariance.length);
  // partial Fisher-Yates: the first `take` entries are a uniform sample without replacement
  for (let slot = 0; slot < take; slot++) {
    const pick = slot + Math.floor(rng.next() * (candidates.length - slot));
    const chosen = candidates[pick] as number;
    candidates[pick] = candidates[slot] as number;
    candidates[slot] = chosen;
    selected[chosen] = 1;
  }
  const isWeights = new Float64Array(covariance.length);
  for (let index = 0; index < isWeights.length; index++) {
    isWeights[index] = selected[index] === 1 ? 0 : input.isWeights === undefined ? 1 : (input.isWeights[index] as number);
  }
  return {
    isWeights,
    statistics: { covariance: { candidateTokenCount: candidates.length, selectedTokenCount: take, selected } },
  };
}
