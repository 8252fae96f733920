import { assertNumber, nonFiniteError } from '../batch/assert-finite';
import type { FloatArray } from '../batch/float-array';
import { assertBatchShape, assertLength } from '../batch/policy-batch';

/**
 * High-entropy token mask ("Beyond the 80/20 rule", arXiv 2506.01939; TRL `top_entropy_quantile`):
 * keep only tokens whose entropy is at least the (1 - keepFraction) quantile of entropies over the
 * masked-in tokens. The quantile interpolates linearly (torch.quantile). In a distributed run, gather
 * entropies across ranks and pass the global `threshold`; a batch without valid tokens gives an
 * all-false mask (§3.2 item 14).
 */
export function entropyQuantileMask(options: {
  batchSize: number;
  sequenceLength: number;
  /** [B,T] per-token entropies (computed by the caller, e.g. from logits) */
  entropies: FloatArray;
  lossMask: Uint8Array;
  /** fraction of tokens to keep, in (0, 1]; 0.2 keeps the top 20% (the paper's choice) */
  keepFraction: number;
  /** a precomputed (global) threshold; overrides the local quantile */
  threshold?: number;
}): { mask: Uint8Array; threshold: number; keptCount: number } {
  const { batchSize, sequenceLength, entropies, lossMask, keepFraction } = options;
  assertBatchShape({ batchSize, sequenceLength, lossMask });
  assertLength('entropies', entropies, batchSize * sequenceLength);
  assertNumber('keepFraction', keepFraction, (value) => value > 0 && value <= 1, 'in (0, 1]');
  const valid: number[] = [];
  for (let index = 0; index < lossMask.length; index++) {
    if (lossMask[index] === 0) continue;
    const entropy = entropies[index] as number;
    if (!Number.isFinite(entropy)) throw nonFiniteError('entropies', index, entropy, sequenceLength);
    valid.push(entropy);
  }
  const mask = new Uint8Array(lossMask.length);
  if (valid.length === 0 && options.threshold === undefined)
    return { mask, threshold: Number.POSITIVE_INFINITY, keptCount: 0 };
  let threshold: number;
  if (options.threshold !== undefined) {
    assertNumber('threshold', options.threshold, () => true, 'finite');
    threshold = options.threshold;
  } else {
    valid.sort((a, b) => a - b);
    const position = (valid.length - 1) * (1 - keepFraction);
    const below = Math.floor(position);
    const above = Math.min(below + 1, valid.length - 1);
    threshold = (valid[below] as number) + ((valid[above] as number) - (valid[below] as number)) * (position - below);
  }
  let keptCount = 0;
  for (let index = 0; index < lossMask.length; index++) {
    if (lossMask[index] !== 0 && (entropies[index] as number) >= threshold) {
      mask[index] = 1;
      keptCount++;
    }
  }
  return { mask, threshold, keptCount };
}
