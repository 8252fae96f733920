import type { FloatArray } from '../batch/float-array';
import { assertLength, assertBatchShape } from '../batch/policy-batch';
import { TokenSource } from '../batch/token-source';
import { AipoError } from '../errors/aipo-error';
import type { PolicyLossInput } from './policy-loss-input';

/** The input of a loss that wraps `policyLoss` (Clip-Cov, KL-Cov, VESPO): everything but the loss name. */
export type WrappedPolicyLossInput = Omit<PolicyLossInput, 'loss' | 'registry'>;

/** Per-token covariance terms over the batch's policy tokens (Clip-Cov / KL-Cov, arXiv 2505.22617). */
export interface TokenCovariances {
  /** [B,T] cov_t = (A_t - mean A) * (lp_t - mean lp); NaN outside the policy tokens */
  covariance: Float64Array;
  /** [B,T] the advantage of every position (broadcast from `sequenceAdvantages` when given) */
  advantages: Float64Array;
  /** flat indices of the policy tokens, in order */
  policyTokens: Int32Array;
}

/**
 * The centred cross term of "The Entropy Mechanism of RL for Reasoning LMs" (arXiv 2505.22617 §4;
 * verl `compute_policy_loss_clip_cov` / `kl_cov`): tokens with a large (A - mean A)(lp - mean lp)
 * are the ones that collapse entropy. Means run in float64 over masked-in policy tokens (off-policy
 * and agent tokens have their own losses and are never selected). Validates shapes and values it reads.
 */
export function tokenCovariances(input: WrappedPolicyLossInput): TokenCovariances {
  const { batchSize, sequenceLength, logProbs, lossMask, sourceMask } = input;
  assertBatchShape({ batchSize, sequenceLength });
  const size = batchSize * sequenceLength;
  assertLength('logProbs', logProbs, size);
  assertLength('lossMask', lossMask, size);
  assertLength('sourceMask', sourceMask, size);
  assertLength('advantages', input.advantages, size);
  assertLength('sequenceAdvantages', input.sequenceAdvantages, batchSize);
  if (input.advantages === undefined && input.sequenceAdvantages === undefined) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'advantages or sequenceAdvantages is required' });
  }
  const advantages = new Float64Array(size);
  const indices: number[] = [];
  let advantageSum = 0;
  let logProbSum = 0;
  for (let index = 0; index < size; index++) {
    const row = Math.floor(index / sequenceLength);
    advantages[index] = readAdvantage(input, index, row);
    if (lossMask[index] === 0) continue;
    if (sourceMask !== undefined && sourceMask[index] !== TokenSource.policy) continue;
    const advantage = advantages[index] as number;
    const logProb = logProbs[index] as number;
    // non-finite values are reported by policyLoss's own validation; keep them out of the means
    if (!Number.isFinite(advantage) || !Number.isFinite(logProb)) continue;
    indices.push(index);
    advantageSum += advantage;
    logProbSum += logProb;
  }
  const count = Math.max(1, indices.length);
  const advantageMean = advantageSum / count;
  const logProbMean = logProbSum / count;
  const covariance = new Float64Array(size).fill(Number.NaN);
  for (const index of indices) {
    covariance[index] =
      ((advantages[index] as number) - advantageMean) * ((logProbs[index] as number) - logProbMean);
  }
  return { covariance, advantages, policyTokens: Int32Array.from(indices) };
}

function readAdvantage(input: WrappedPolicyLossInput, index: number, row: number): number {
  const source: FloatArray | undefined = input.advantages;
  return source !== undefined ? (source[index] as number) : ((input.sequenceAdvantages as FloatArray)[row] as number);
}

/** max(1, floor(ratio * N)): how many tokens verl's clip_cov / kl_cov act on. */
export function covarianceSelectionCount(ratio: number, tokens: number): number {
  return Math.max(1, Math.floor(ratio * tokens));
}
