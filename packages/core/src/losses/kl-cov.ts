import { assertNumber } from '../batch/assert-finite';
import { covarianceSelectionCount, tokenCovariances } from './clip-cov-covariance';
import {
  CLIP_NONE,
  type PolicyLossBatchContext,
  type PolicyLossBatchPlan,
  type PolicyLossDefinition,
} from './policy-loss-definition';

/** Knobs of KL-Cov; defaults are verl's `kl_cov_ratio` and `ppo_kl_coef`. */
export interface KlCovOptions {
  /** fraction of the policy tokens (largest cov first) that get the KL term, at least one; default 2e-4 */
  ratio?: number;
  /** k in k*|log r|; default 1 */
  coefficient?: number;
}

/**
 * KL-Cov (arXiv 2505.22617 §4.2; verl `kl_cov`), registered as 'kl-cov': no ratio clip and no dual
 * clip; every policy token costs -r*A, and the max(1, ratio*N) tokens with the largest
 * cov = (A - mean A)(lp - mean lp) also pay k*|log r|, pulling exactly the entropy-collapsing tokens
 * back toward the old policy. Ties go to the earlier token. The batch pre-pass ranks the tokens and
 * hands each one its k (or 0) as `batchTerm`:
 *   l = -A*r + term*|log r|,   ∂l/∂log r = -A*r + term*sign(log r)   (subgradient 0 at r = 1, as torch's abs).
 */
export const klCovLoss: PolicyLossDefinition = {
  id: 'kl-cov',
  description: '-r*A plus k*|log r| on the highest-covariance tokens',
  ratioLevel: 'token',
  token(input, _options, out) {
    const { ratio, advantage } = input;
    const term = input.batchTerm ?? 0;
    const logRatio = Math.log(ratio);
    out.clip = CLIP_NONE;
    out.value = -advantage * ratio + term * Math.abs(logRatio);
    out.gradLogRatio = -advantage * ratio + term * Math.sign(logRatio);
  },
  prepareBatch: selectKlCovTokens,
};

function selectKlCovTokens({ input }: PolicyLossBatchContext): PolicyLossBatchPlan {
  const klCov = input.options?.klCov ?? {};
  const ratio = klCov.ratio ?? 2e-4;
  const coefficient = klCov.coefficient ?? 1;
  assertNumber('klCov.ratio', ratio, (value) => value >= 0 && value <= 1, 'in [0, 1]');
  assertNumber('klCov.coefficient', coefficient, (value) => value >= 0, '>= 0');
  const { covariance, policyTokens } = tokenCovariances(input);
  const order = Array.from(policyTokens).sort(
    (a, b) => (covariance[b] as number) - (covariance[a] as number) || a - b,
  );
  const take = Math.min(covarianceSelectionCount(ratio, policyTokens.length), order.length);
  const selected = new Uint8Array(covariance.length);
  const tokenTerms = new Float64Array(covariance.length);
  for (let slot = 0; slot < take; slot++) {
    const index = order[slot] as number;
    selected[index] = 1;
    tokenTerms[index] = coefficient;
  }
  return {
    tokenTerms,
    statistics: { covariance: { candidateTokenCount: policyTokens.length, selectedTokenCount: take, selected } },
  };
}
