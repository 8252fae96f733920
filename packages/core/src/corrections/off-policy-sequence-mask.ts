import { assertNumber } from '../batch/assert-finite';
import type { FloatArray } from '../batch/float-array';
import { assertBatchShape, assertLength } from '../batch/policy-batch';
import { rolloutLogRatio } from './importance-weights';

/**
 * DeepSeek-V3.2's off-policy sequence mask (TRL `off_policy_mask_threshold`): drop a negative-advantage
 * sequence when the policy has drifted from the rollout, i.e. keep sequence i if A_i >= 0 or
 * mean_t(lp_roll - lp) <= delta. Negative samples the current policy no longer produces mostly add noise.
 */
export function offPolicySequenceMask(options: {
  batchSize: number;
  sequenceLength: number;
  /** [B,T] current log-probs */
  logProbs: FloatArray;
  /** [B,T] rollout-engine log-probs */
  rolloutLogProbs: FloatArray;
  /** [B] per-sequence advantages */
  sequenceAdvantages: FloatArray;
  lossMask: Uint8Array;
  /** delta, the drift allowed for negative samples */
  threshold: number;
}): { mask: Uint8Array; maskedSequenceCount: number } {
  const { batchSize, sequenceLength, logProbs, rolloutLogProbs, sequenceAdvantages, lossMask, threshold } = options;
  assertBatchShape({ batchSize, sequenceLength, lossMask });
  assertLength('logProbs', logProbs, batchSize * sequenceLength);
  assertLength('rolloutLogProbs', rolloutLogProbs, batchSize * sequenceLength);
  assertLength('sequenceAdvantages', sequenceAdvantages, batchSize);
  assertNumber('threshold', threshold, () => true, 'finite');
  const mask = Uint8Array.from(lossMask, (value) => (value === 0 ? 0 : 1));
  let maskedSequenceCount = 0;
  for (let row = 0; row < batchSize; row++) {
    if ((sequenceAdvantages[row] as number) >= 0) continue;
    let sum = 0;
    let count = 0;
    for (let index = row * sequenceLength; index < (row + 1) * sequenceLength; index++) {
      if (mask[index] === 0) continue;
      sum += rolloutLogRatio(rolloutLogProbs, logProbs, index, sequenceLength, ['rolloutLogProbs', 'logProbs']);
      count++;
    }
    if (count > 0 && sum / count > threshold) {
      mask.fill(0, row * sequenceLength, (row + 1) * sequenceLength);
      maskedSequenceCount++;
    }
  }
  return { mask, maskedSequenceCount };
}
