import {
  type AggregationCounts,
  type AggregationMode,
  countRowLengths,
  planAggregation,
} from '../aggregation/aggregation-plan';
import { assertNumber, nonFiniteError } from '../batch/assert-finite';
import type { FloatArray } from '../batch/float-array';
import { assertBatchShape, assertLength } from '../batch/policy-batch';
import { AipoError } from '../errors/aipo-error';

export interface ValueLossOptions extends AggregationCounts {
  batchSize: number;
  sequenceLength: number;
  /** [B,T] critic values V_θ(s_t): the gradient is taken with respect to these */
  values: FloatArray;
  /** [B,T] return targets (e.g. `computeAdvantages({ estimator: 'gae' }).returns`) */
  returns: FloatArray;
  /** [B,T] values of the critic that produced the rollout; needed for clipping */
  oldValues?: FloatArray;
  lossMask: Uint8Array;
  /** clip V to [V_old - c, V_old + c] in the second branch; default off */
  clipRange?: number;
  /** default 'token-mean' */
  aggregation?: AggregationMode;
}

export interface ValueLossResult {
  value: number;
  /** [B,T] ∂value/∂values */
  gradValues: Float32Array;
  diagnostics: {
    /** fraction of tokens where the clipped branch was the larger one */
    clipFraction: number;
    /** 1 - Var(returns - values) / Var(returns) over masked-in tokens (0 when Var(returns) = 0) */
    explainedVariance: number;
  };
}

/**
 * The PPO critic loss (verl `compute_value_loss`, OpenRLHF `ValueLoss`):
 * l = 0.5 * max((V - R)^2, (clip(V, V_old - c, V_old + c) - R)^2), aggregated like the policy loss.
 */
export function valueLoss(options: ValueLossOptions): ValueLossResult {
  const { batchSize, sequenceLength, values, returns, oldValues, lossMask } = options;
  assertBatchShape({ batchSize, sequenceLength, lossMask });
  const tokens = batchSize * sequenceLength;
  assertLength('values', values, tokens);
  assertLength('returns', returns, tokens);
  assertLength('oldValues', oldValues, tokens);
  const clipRange = options.clipRange;
  if (clipRange !== undefined) {
    assertNumber('clipRange', clipRange, (value) => value > 0, '> 0');
    if (oldValues === undefined) {
      throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'valueLoss needs oldValues when clipRange is set' });
    }
  }
  const rowLengths = countRowLengths(lossMask, batchSize, sequenceLength);
  const plan = planAggregation({ ...options, mode: options.aggregation ?? 'token-mean', rowLengths, sequenceLength });
  const gradValues = new Float32Array(tokens);
  let total = 0;
  let clipped = 0;
  let count = 0;
  let returnSum = 0;
  let returnSquares = 0;
  let residualSum = 0;
  let residualSquares = 0;
  for (let row = 0; row < batchSize; row++) {
    const factor = plan.rowFactors[row] as number;
    let rowSum = 0;
    for (let index = row * sequenceLength; index < (row + 1) * sequenceLength; index++) {
      if (lossMask[index] === 0) continue;
      const value = values[index] as number;
      const target = returns[index] as number;
      if (!Number.isFinite(value)) throw nonFiniteError('values', index, value, sequenceLength);
      if (!Number.isFinite(target)) throw nonFiniteError('returns', index, target, sequenceLength);
      let loss = 0.5 * (value - target) ** 2;
      let gradient = value - target;
      if (clipRange !== undefined && oldValues !== undefined) {
        const old = oldValues[index] as number;
        if (!Number.isFinite(old)) throw nonFiniteError('oldValues', index, old, sequenceLength);
        const low = old - clipRange;
        const high = old + clipRange;
        const bounded = Math.min(Math.max(value, low), high);
        const clippedLoss = 0.5 * (bounded - target) ** 2;
        if (clippedLoss > loss) {
          loss = clippedLoss;
          // the clipped value moves with V only inside the band
          gradient = value < low || value > high ? 0 : bounded - target;
          clipped++;
        }
      }
      rowSum += loss;
      gradValues[index] = factor * gradient;
      count++;
      returnSum += target;
      returnSquares += target * target;
      residualSum += target - value;
      residualSquares += (target - value) ** 2;
    }
    total += factor * rowSum;
  }
  const variance = (sum: number, squares: number) => (count > 0 ? squares / count - (sum / count) ** 2 : 0);
  const returnVariance = variance(returnSum, returnSquares);
  return {
    value: total,
    gradValues,
    diagnostics: {
      clipFraction: count > 0 ? clipped / count : 0,
      explainedVariance: returnVariance > 0 ? 1 - variance(residualSum, residualSquares) / returnVariance : 0,
    },
  };
}
