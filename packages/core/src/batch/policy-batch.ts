import { AipoError } from '../errors/aipo-error';
import type { FloatArray } from './float-array';

/**
 * The batch layout every core function uses. Token arrays are row-major `[B,T]` (index b*T + t);
 * per-sequence arrays are `[B]`. Nothing is ever mutated by core.
 */
export interface BatchShape {
  /** B: number of sequences (rows) */
  batchSize: number;
  /** T: padded response length (columns) */
  sequenceLength: number;
}

export interface PolicyBatch extends BatchShape {
  /** [B,T] log π_θ(token) under the current policy (the values gradients are taken with respect to) */
  logProbs: FloatArray;
  /** [B,T] log π_old(token) from the policy that sampled the batch (PPO's denominator) */
  oldLogProbs?: FloatArray;
  /** [B,T] log π_ref(token) of the frozen reference model (KL) */
  refLogProbs?: FloatArray;
  /** [B,T] log-probs reported by the rollout engine (vLLM-style mismatch correction) */
  rolloutLogProbs?: FloatArray;
  /** [B,T] 1 where the token is a response token that enters the loss, 0 for padding / prompt */
  lossMask: Uint8Array;
  /** [B,T] TokenSource per token (policy / off-policy trace / agent-inserted); absent = all policy */
  sourceMask?: Uint8Array;
  /** [B] arbitrary group id per sequence (groups need not be contiguous) */
  groupIds?: Int32Array;
  /** [B] scalar outcome reward per sequence; NaN marks an unscorable sequence */
  rewards?: FloatArray;
}

/** Throw SHAPE_MISMATCH unless `array` has exactly `expected` elements. */
export function assertLength(name: string, array: ArrayLike<unknown> | undefined, expected: number): void {
  if (array === undefined) return;
  if (array.length !== expected) {
    throw new AipoError({
      code: 'SHAPE_MISMATCH',
      message: `${name} has ${array.length} elements, expected ${expected}`,
      details: { name, length: array.length, expected },
    });
  }
}

/** Validate a shape and the lengths of every array a batch carries. */
export function assertBatchShape(batch: BatchShape & Partial<PolicyBatch>): void {
  const { batchSize, sequenceLength } = batch;
  if (!Number.isInteger(batchSize) || batchSize < 0 || !Number.isInteger(sequenceLength) || sequenceLength < 0) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `batchSize and sequenceLength must be non-negative integers (got ${batchSize}, ${sequenceLength})`,
    });
  }
  const tokens = batchSize * sequenceLength;
  assertLength('logProbs', batch.logProbs, tokens);
  assertLength('oldLogProbs', batch.oldLogProbs, tokens);
  assertLength('refLogProbs', batch.refLogProbs, tokens);
  assertLength('rolloutLogProbs', batch.rolloutLogProbs, tokens);
  assertLength('lossMask', batch.lossMask, tokens);
  assertLength('sourceMask', batch.sourceMask, tokens);
  assertLength('groupIds', batch.groupIds, batchSize);
  assertLength('rewards', batch.rewards, batchSize);
}
