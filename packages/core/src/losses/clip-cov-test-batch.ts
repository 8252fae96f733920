import { aggregateLoss } from '../aggregation/aggregate-loss';
import type { AggregationMode } from '../aggregation/aggregation-plan';
import { TokenSource } from '../batch/token-source';
import { createRng } from '../random/create-rng';

/**
 * Test helper (not exported from the package) for the wrapped losses (Clip-Cov, KL-Cov, VESPO):
 * a random [B,T] batch with ragged rows, an empty row, garbage in the padding and, optionally, an
 * off-policy row; plus a float64 aggregation of reference token losses.
 */
export const B = 5;
export const T = 7;

export function randomBatch(seed: number, options: { mixedSources?: boolean; spread?: number } = {}) {
  const rng = createRng(seed);
  const spread = options.spread ?? 0.8;
  const size = B * T;
  const logProbs = new Float64Array(size);
  const oldLogProbs = new Float64Array(size);
  const advantages = new Float64Array(size);
  const lossMask = new Uint8Array(size);
  const sourceMask = new Uint8Array(size);
  const isWeights = new Float64Array(size);
  for (let row = 0; row < B; row++) {
    const length = row === 2 ? 0 : 2 + Math.floor(rng.next() * (T - 1));
    const advantage = (rng.next() - 0.5) * 4;
    for (let t = 0; t < T; t++) {
      const index = row * T + t;
      logProbs[index] = -0.05 - rng.next() * 3;
      oldLogProbs[index] = (logProbs[index] as number) + (rng.next() - 0.5) * spread;
      advantages[index] = advantage;
      lossMask[index] = t < length ? 1 : 0;
      sourceMask[index] = options.mixedSources === true && row === 1 ? TokenSource.offPolicy : TokenSource.policy;
      isWeights[index] = 0.5 + rng.next();
      if (t >= length) {
        logProbs[index] = Number.NEGATIVE_INFINITY;
        oldLogProbs[index] = Number.NaN;
      }
    }
  }
  return { batchSize: B, sequenceLength: T, logProbs, oldLogProbs, advantages, lossMask, sourceMask, isWeights };
}

export type RandomBatch = ReturnType<typeof randomBatch>;

/** Float64 aggregation of reference token losses with the same counts the tests pass to the loss. */
export function aggregateReference(batch: RandomBatch, tokenLosses: Float64Array, mode: AggregationMode): number {
  return aggregateLoss({
    values: tokenLosses,
    mask: batch.lossMask,
    batchSize: B,
    sequenceLength: T,
    mode,
    normConstant: 8,
  }).value;
}
