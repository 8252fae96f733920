import { nonFiniteError } from '../batch/assert-finite';
import type { FloatArray } from '../batch/float-array';
import { assertBatchShape, assertLength } from '../batch/policy-batch';
import { type AggregationCounts, type AggregationMode, countRowLengths, planAggregation } from './aggregation-plan';

export type { AggregationMode } from './aggregation-plan';

export interface AggregateLossOptions extends AggregationCounts {
  /** [B,T] per-token loss; masked-out positions may hold anything (even NaN) */
  values: FloatArray;
  /** [B,T] 1 = the token enters the loss */
  mask: Uint8Array;
  batchSize: number;
  sequenceLength: number;
  mode: AggregationMode;
}

export interface AggregateLossResult {
  /** the aggregated scalar loss (0 for an empty batch, never NaN) */
  value: number;
  /** [B,T] ∂value/∂values[i] (0 on masked-out positions) */
  weights: Float32Array;
  /** masked-in tokens of this batch */
  tokenCount: number;
  /** non-empty rows of this batch */
  sequenceCount: number;
}

/**
 * Reduce a [B,T] per-token loss to a scalar. Sums run in float64. Core never divides by the number of
 * gradient-accumulation steps: pass `globalTokenCount` / `globalSequenceCount` instead
 * (verl `agg_loss` with `global_batch_info`; rl-frameworks.md §3.2 items 3, 6, 7 and 10).
 */
export function aggregateLoss(options: AggregateLossOptions): AggregateLossResult {
  const { values, mask, batchSize, sequenceLength } = options;
  assertBatchShape({ batchSize, sequenceLength });
  const tokens = batchSize * sequenceLength;
  assertLength('values', values, tokens);
  assertLength('mask', mask, tokens);
  const rowLengths = countRowLengths(mask, batchSize, sequenceLength);
  const plan = planAggregation({ ...options, rowLengths, sequenceLength });
  const weights = new Float32Array(tokens);
  let value = 0;
  for (let row = 0, offset = 0; row < batchSize; row++, offset += sequenceLength) {
    const factor = plan.rowFactors[row] as number;
    let rowSum = 0;
    for (let index = offset; index < offset + sequenceLength; index++) {
      if (mask[index] === 0) continue;
      const loss = values[index] as number;
      if (!Number.isFinite(loss)) throw nonFiniteError('values', index, loss, sequenceLength);
      rowSum += loss;
      weights[index] = factor;
    }
    value += factor * rowSum;
  }
  return { value, weights, tokenCount: plan.tokenCount, sequenceCount: plan.sequenceCount };
}
