import type { FloatArray } from '../batch/float-array';
import { assertBatchShape, assertLength } from '../batch/policy-batch';
import { AipoError } from '../errors/aipo-error';
import { rolloutLogRatio } from './importance-weights';

/**
 * Rejection sampling by divergence between the rollout engine and the trainer (verl `rollout_rs`,
 * rl-frameworks.md table C). With log rho = lp_old - lp_roll per token:
 * k1 = -log rho, k2 = (log rho)^2 / 2, k3 = rho - 1 - log rho (Schulman's estimators of KL(roll||old)).
 * A criterion keeps a token (level 'token') or a whole sequence (levels 'sequence-sum',
 * 'sequence-mean', 'sequence-max' of the token statistic) when the statistic lies in [lower, upper].
 * Several criteria are combined with AND.
 */
export interface RejectionCriterion {
  statistic: 'k1' | 'k2' | 'k3';
  level: 'token' | 'sequence-sum' | 'sequence-mean' | 'sequence-max';
  /** keep when statistic >= lower; default -Infinity */
  lower?: number;
  /** keep when statistic <= upper; default +Infinity */
  upper?: number;
}

export interface RejectionMaskOptions {
  batchSize: number;
  sequenceLength: number;
  oldLogProbs: FloatArray;
  rolloutLogProbs: FloatArray;
  lossMask: Uint8Array;
  criteria: RejectionCriterion[];
}

export interface RejectionMaskResult {
  /** [B,T] lossMask minus rejected tokens */
  mask: Uint8Array;
  /** fraction of lossMask tokens rejected */
  rejectedTokenFraction: number;
  /** non-empty sequences that lost every token */
  rejectedSequenceCount: number;
}

export function rejectionMask(options: RejectionMaskOptions): RejectionMaskResult {
  const { batchSize, sequenceLength, oldLogProbs, rolloutLogProbs, lossMask, criteria } = options;
  assertBatchShape({ batchSize, sequenceLength, lossMask });
  assertLength('oldLogProbs', oldLogProbs, batchSize * sequenceLength);
  assertLength('rolloutLogProbs', rolloutLogProbs, batchSize * sequenceLength);
  if (!Array.isArray(criteria) || criteria.length === 0) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'rejectionMask needs at least one criterion' });
  }
  for (const criterion of criteria) validate(criterion);
  const mask = Uint8Array.from(lossMask, (value) => (value === 0 ? 0 : 1));
  let total = 0;
  let rejected = 0;
  let rejectedSequences = 0;
  for (let row = 0; row < batchSize; row++) {
    const offset = row * sequenceLength;
    let length = 0;
    for (let index = offset; index < offset + sequenceLength; index++) length += mask[index] as number;
    if (length === 0) continue;
    total += length;
    let keepRow = true;
    for (const criterion of criteria) {
      if (criterion.level === 'token') continue;
      let aggregate = criterion.level === 'sequence-max' ? Number.NEGATIVE_INFINITY : 0;
      for (let index = offset; index < offset + sequenceLength; index++) {
        if (mask[index] === 0) continue;
        const value = statistic(
          criterion.statistic,
          rolloutLogRatio(oldLogProbs, rolloutLogProbs, index, sequenceLength),
        );
        aggregate = criterion.level === 'sequence-max' ? Math.max(aggregate, value) : aggregate + value;
      }
      if (criterion.level === 'sequence-mean') aggregate /= length;
      if (!inside(aggregate, criterion)) keepRow = false;
    }
    let kept = 0;
    for (let index = offset; index < offset + sequenceLength; index++) {
      if (mask[index] === 0) continue;
      let keep = keepRow;
      if (keep) {
        for (const criterion of criteria) {
          if (criterion.level !== 'token') continue;
          const value = statistic(
            criterion.statistic,
            rolloutLogRatio(oldLogProbs, rolloutLogProbs, index, sequenceLength),
          );
          if (!inside(value, criterion)) keep = false;
        }
      }
      if (keep) kept++;
      else {
        mask[index] = 0;
        rejected++;
      }
    }
    if (kept === 0) rejectedSequences++;
  }
  return { mask, rejectedTokenFraction: total > 0 ? rejected / total : 0, rejectedSequenceCount: rejectedSequences };
}

function statistic(kind: RejectionCriterion['statistic'], logRho: number): number {
  if (kind === 'k1') return -logRho;
  if (kind === 'k2') return 0.5 * logRho * logRho;
  // k3 in log space is overflow-prone for log rho > 88; clamp as the KL estimators do (±20)
  const clamped = Math.max(-20, Math.min(20, logRho));
  return Math.exp(clamped) - 1 - clamped;
}

function inside(value: number, criterion: RejectionCriterion): boolean {
  return (
    value >= (criterion.lower ?? Number.NEGATIVE_INFINITY) && value <= (criterion.upper ?? Number.POSITIVE_INFINITY)
  );
}

function validate(criterion: RejectionCriterion): void {
  if (!['k1', 'k2', 'k3'].includes(criterion.statistic)) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `unknown rejection statistic "${String(criterion.statistic)}" (available: k1, k2, k3)`,
    });
  }
  if (!['token', 'sequence-sum', 'sequence-mean', 'sequence-max'].includes(criterion.level)) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `unknown rejection level "${String(criterion.level)}" (available: token, sequence-sum, sequence-mean, sequence-max)`,
    });
  }
  const lower = criterion.lower ?? Number.NEGATIVE_INFINITY;
  const upper = criterion.upper ?? Number.POSITIVE_INFINITY;
  if (Number.isNaN(lower) || Number.isNaN(upper) || lower > upper) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `rejection bounds must satisfy lower <= upper (got ${lower}, ${upper})`,
    });
  }
}
