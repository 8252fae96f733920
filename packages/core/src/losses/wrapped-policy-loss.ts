import type { Rng } from '../random/create-rng';
import type { WrappedPolicyLossInput } from './clip-cov-covariance';
import { type ClipCovOptions, type CovarianceSelection, clipCovLoss } from './clip-cov';
import { type KlCovOptions, klCovLoss } from './kl-cov';
import { policyLoss } from './policy-loss';
import type { PolicyLossDefinition, PolicyLossOptions } from './policy-loss-definition';
import type { PolicyLossResult } from './policy-loss-input';
import { type VespoOptions, vespoLoss } from './vespo';

export interface ClipCovInput extends WrappedPolicyLossInput {
  /** picks which candidates are detached; the same seed gives the same selection */
  rng: Rng;
  clipCov?: ClipCovOptions;
}

export interface KlCovInput extends WrappedPolicyLossInput {
  klCov?: KlCovOptions;
}

export interface VespoInput extends WrappedPolicyLossInput {
  vespo?: VespoOptions;
}

/** `policyLoss({ loss: 'clip-cov', rng, options: { clipCov } })` with the selection at the top level. */
export function clipCovPolicyLoss(input: ClipCovInput): PolicyLossResult & { covariance: CovarianceSelection } {
  const { clipCov, ...rest } = input;
  const result = runWrapped(rest, clipCovLoss, clipCov === undefined ? {} : { clipCov });
  return { ...result, covariance: result.batchStatistics?.covariance as CovarianceSelection };
}

/** `policyLoss({ loss: 'kl-cov', options: { klCov } })` with the selection at the top level. */
export function klCovPolicyLoss(input: KlCovInput): PolicyLossResult & { covariance: CovarianceSelection } {
  const { klCov, ...rest } = input;
  const result = runWrapped(rest, klCovLoss, klCov === undefined ? {} : { klCov });
  return { ...result, covariance: result.batchStatistics?.covariance as CovarianceSelection };
}

/** `policyLoss({ loss: 'vespo', options: { vespo } })` with phi at the top level as `sequenceWeights`. */
export function vespoPolicyLoss(input: VespoInput): PolicyLossResult & { sequenceWeights: Float64Array } {
  const { vespo, ...rest } = input;
  const result = runWrapped(rest, vespoLoss, vespo === undefined ? {} : { vespo });
  return { ...result, sequenceWeights: result.batchStatistics?.sequenceWeights as Float64Array };
}

function runWrapped(
  input: WrappedPolicyLossInput,
  loss: PolicyLossDefinition,
  extra: PolicyLossOptions,
): PolicyLossResult {
  return policyLoss({ ...input, loss, options: { ...input.options, ...extra } });
}
