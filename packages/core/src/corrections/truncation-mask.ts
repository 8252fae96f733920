import { assertBatchShape, assertLength } from '../batch/policy-batch';

/**
 * Zero the loss mask of completions that did not finish (no EOS within the length limit): TRL
 * `mask_truncated_completions`, ROLL `max_len_mask`, the AIPO prototype's overlong filter
 * (algorithms.md §1.3). A truncated answer is usually unscored noise, so it should not teach.
 */
export function truncationMask(options: {
  batchSize: number;
  sequenceLength: number;
  lossMask: Uint8Array;
  /** [B] 1 where the completion was cut off */
  truncated: Uint8Array;
}): { mask: Uint8Array; truncatedCount: number } {
  const { batchSize, sequenceLength, lossMask, truncated } = options;
  assertBatchShape({ batchSize, sequenceLength, lossMask });
  assertLength('truncated', truncated, batchSize);
  const mask = Uint8Array.from(lossMask, (value) => (value === 0 ? 0 : 1));
  let truncatedCount = 0;
  for (let row = 0; row < batchSize; row++) {
    if (truncated[row] === 0) continue;
    truncatedCount++;
    mask.fill(0, row * sequenceLength, (row + 1) * sequenceLength);
  }
  return { mask, truncatedCount };
}
