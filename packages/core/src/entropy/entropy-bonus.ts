import { assertNumber } from '../batch/assert-finite';
import type { FloatArray } from '../batch/float-array';
import { assertBatchShape } from '../batch/policy-batch';
import { aggregateLoss } from '../aggregation/aggregate-loss';
import type { AggregationCounts, AggregationMode } from '../aggregation/aggregation-plan';
import { AipoError } from '../errors/aipo-error';
import { entropyBackward, entropyForward } from './entropy-gradient';

export interface EntropyBonusOptions {
  /** [B·T, V] logits, one row per token of the [B,T] batch */
  logits: FloatArray;
  /** V */
  vocabSize: number;
  /** [B,T] loss mask; masked-out rows of `logits` are never read */
  mask: Uint8Array;
  batchSize: number;
  sequenceLength: number;
  /** c >= 0: loss −= c·agg(H) (verl `entropy_coeff`, default 0) */
  coefficient: number;
  /** aggregation and global counts; verl uses the policy loss's mode, TRL always token-mean (default) */
  aggregation?: AggregationCounts & { mode: AggregationMode };
  /** softmax temperature τ (default 1) */
  temperature?: number;
}

export interface EntropyBonusResult {
  /** −c·agg(H) (add it to the loss) */
  value: number;
  /** [B·T, V] ∂value/∂logits (the bonus needs the distribution, so its gradient is w.r.t. logits) */
  gradLogits: Float32Array;
  /** [B,T] per-token entropy (0 on masked-out tokens) */
  entropy: Float32Array;
  diagnostics: {
    /** masked-in token mean of H */
    meanEntropy: number;
    /** masked-in tokens */
    tokenCount: number;
  };
}

/**
 * The entropy bonus of PPO (Schulman et al. 2017, eq. 9): subtract c·agg(H) from the loss to keep
 * the policy exploring. The per-token entropies are aggregated with `aggregateLoss`, whose weights
 * w give ∂value/∂H = −c·w, pushed through ∂H/∂logits in the same pass that computed H.
 */
export function entropyBonus(options: EntropyBonusOptions): EntropyBonusResult {
  const { logits, vocabSize, mask, batchSize, sequenceLength, coefficient, aggregation = { mode: 'token-mean' }, temperature = 1 } = options;
  assertBatchShape({ batchSize, sequenceLength, lossMask: mask });
  assertNumber('coefficient', coefficient, (value) => value >= 0, 'a finite number >= 0');
  if (logits.length !== batchSize * sequenceLength * vocabSize) {
    throw new AipoError({
      code: 'SHAPE_MISMATCH',
      message: `logits has ${logits.length} entries, expected B·T·V = ${batchSize}·${sequenceLength}·${vocabSize}`,
      details: { length: logits.length, batchSize, sequenceLength, vocabSize },
    });
  }
  const gradLogits = new Float32Array(logits.length);
  const forward = entropyForward({ logits, vocabSize, rowMask: mask, temperature, scratch: gradLogits });
  const aggregated = aggregateLoss({ ...aggregation, values: forward.entropy64, mask, batchSize, sequenceLength });
  const upstream = new Float64Array(mask.length);
  let entropySum = 0;
  for (let index = 0; index < mask.length; index++) {
    upstream[index] = -coefficient * (aggregated.weights[index] as number);
    if (mask[index] !== 0) entropySum += forward.entropy64[index] as number;
  }
  entropyBackward({ logits, vocabSize, temperature, forward, upstream, gradLogits });
  return {
    value: -coefficient * aggregated.value,
    gradLogits,
    entropy: forward.entropy,
    diagnostics: { meanEntropy: aggregated.tokenCount === 0 ? 0 : entropySum / aggregated.tokenCount, tokenCount: aggregated.tokenCount },
  };
}
