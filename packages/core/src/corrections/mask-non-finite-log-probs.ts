import type { FloatArray } from '../batch/float-array';
import { assertBatchShape, assertLength } from '../batch/policy-batch';

/**
 * Drop positions whose log-prob is -inf or NaN in any of the given arrays from the loss mask
 * (NeMo-RL `mask_out_neg_inf_logprobs`, PR #2053/#4154): top-k/top-p sampling can give the trainer
 * lp = -inf, and `inf * 0 = NaN`, so masking must happen before any arithmetic (§3.2 item 4).
 */
export function maskNonFiniteLogProbs(options: {
  batchSize: number;
  sequenceLength: number;
  lossMask: Uint8Array;
  /** every [B,T] log-prob array the loss will read (current, old, rollout, ref) */
  logProbs: FloatArray[];
}): { mask: Uint8Array; maskedCount: number } {
  const { batchSize, sequenceLength, lossMask, logProbs } = options;
  assertBatchShape({ batchSize, sequenceLength, lossMask });
  for (const [index, array] of logProbs.entries())
    assertLength(`logProbs[${index}]`, array, batchSize * sequenceLength);
  const mask = Uint8Array.from(lossMask, (value) => (value === 0 ? 0 : 1));
  let maskedCount = 0;
  for (let index = 0; index < mask.length; index++) {
    if (mask[index] === 0) continue;
    for (const array of logProbs) {
      if (!Number.isFinite(array[index] as number)) {
        mask[index] = 0;
        maskedCount++;
        break;
      }
    }
  }
  return { mask, maskedCount };
}
