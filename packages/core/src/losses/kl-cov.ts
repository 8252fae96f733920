import { assertNumber } from '../batch/assert-finite';
import { covarianceSelectionCount, tokenCovariances, type WrappedPolicyLossInput } from './clip-cov-covariance';
import type { CovarianceSelection } from './clip-cov';
import { policyLoss } from './policy-loss';
import { CLIP_NONE, type PolicyLossDefinition, type PolicyLossOptions } from './policy-loss-definition';
import type { PolicyLossResult } from './policy-loss-input';

/** Knobs of KL-Cov; defaults are verl's `kl_cov_ratio` and `ppo_kl_coef`. */
export interface KlCovOptions {
  /** fraction of the policy tokens (largest cov first) that get the KL term, at least one; default 2e-4 */
  ratio?: number;
  /** k in k*|log r|; default 1 */
  coefficient?: number;
}

export interface KlCovInput extends WrappedPolicyLossInput {
  klCov?: KlCovOptions;
}

/** k*|log r| for the selected tokens (their weight 0/1 arrives as the IS weight). */
function absoluteLogRatioLoss(coefficient: number): PolicyLossDefinition {
  return {
    id: 'kl-cov-penalty',
    description: 'k * |log r|',
    ratioLevel: 'token',
    token(input, _options, out) {
      const logRatio = Math.log(input.ratio);
      out.clip = CLIP_NONE;
      out.value = coefficient * Math.abs(logRatio);
      // subgradient 0 at log r = 0, as torch's abs
      out.gradLogRatio = coefficient * Math.sign(logRatio);
    },
  };
}

/**
 * KL-Cov (arXiv 2505.22617 §4.2; verl `kl_cov`): no ratio clip; every policy token costs -r*A, and
 * the max(1, ratio*N) tokens with the largest cov = (A - mean A)(lp - mean lp) also pay k*|log r|,
 * pulling exactly the entropy-collapsing tokens back toward the old policy. Ties go to the earlier
 * token. Aggregation is linear in the token losses, so this runs `policyLoss` twice over the same
 * mask (-r*A, then the penalty weighted by the selection) and adds values and gradients; the
 * diagnostics are those of the -r*A pass plus the selection.
 */
export function klCovPolicyLoss(input: KlCovInput): PolicyLossResult & { covariance: CovarianceSelection } {
  const { klCov = {}, ...rest } = input;
  const ratio = klCov.ratio ?? 2e-4;
  const coefficient = klCov.coefficient ?? 1;
  assertNumber('klCov.ratio', ratio, (value) => value >= 0 && value <= 1, 'in [0, 1]');
  assertNumber('klCov.coefficient', coefficient, (value) => value >= 0, '>= 0');
  const { covariance, policyTokens } = tokenCovariances(rest);
  const order = Array.from(policyTokens).sort(
    (a, b) => (covariance[b] as number) - (covariance[a] as number) || a - b,
  );
  const take = Math.min(covarianceSelectionCount(ratio, policyTokens.length), order.length);
  const selected = new Uint8Array(covariance.length);
  const penaltyWeights = new Float64Array(covariance.length);
  for (let slot = 0; slot < take; slot++) {
    const index = order[slot] as number;
    selected[index] = 1;
    penaltyWeights[index] = rest.isWeights === undefined ? 1 : (rest.isWeights[index] as number);
  }
  // -r*A: PPO-clip with the clip and the dual clip off (verl's kl_cov has neither)
  const { dualClip: _dualClip, ...baseOptions }: PolicyLossOptions = rest.options ?? {};
  const base = policyLoss({ ...rest, loss: 'ppo-clip', options: { ...baseOptions, clip: false } });
  const penalty = policyLoss({
    ...rest,
    loss: absoluteLogRatioLoss(coefficient),
    isWeights: penaltyWeights,
    gradientBuffer: undefined,
    fastPath: false,
  });
  const gradLogProbs = base.gradLogProbs;
  for (let index = 0; index < gradLogProbs.length; index++) {
    gradLogProbs[index] = (gradLogProbs[index] as number) + (penalty.gradLogProbs[index] as number);
  }
  const value = base.value + penalty.value;
  const result: PolicyLossResult = {
    ...base,
    value,
    gradLogProbs,
    diagnostics: {
      ...base.diagnostics,
      valueBySource: { ...base.diagnostics.valueBySource, policy: base.diagnostics.valueBySource.policy + penalty.value },
    },
  };
  if (base.tokenLosses !== undefined && penalty.tokenLosses !== undefined) {
    const tokenLosses = base.tokenLosses;
    for (let index = 0; index < tokenLosses.length; index++) {
      tokenLosses[index] = (tokenLosses[index] as number) + (penalty.tokenLosses[index] as number);
    }
  }
  return { ...result, covariance: { candidateTokenCount: policyTokens.length, selectedTokenCount: take, selected } };
}
