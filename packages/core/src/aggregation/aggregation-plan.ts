import { assertNumber } from '../batch/assert-finite';
import { countNonZero } from '../batch/count-non-zero';
import { AipoError } from '../errors/aipo-error';

/**
 * How per-token losses become one scalar (rl-frameworks.md table D):
 * - `token-mean` (DAPO): sum m*l / N_tok
 * - `seq-mean-token-mean` (original GRPO): mean_i( sum_t m*l / L_i )
 * - `seq-mean-token-sum`: mean_i( sum_t m*l )
 * - `seq-mean-token-sum-norm` (Dr.GRPO, arXiv 2503.20783): sum m*l / (S*C) with a constant C
 * - `luspo` (TRL `loss_type="luspo"`): mean_i( l_i * L_i^alpha ), l_i the row's token mean
 */
export type AggregationMode =
  | 'token-mean'
  | 'seq-mean-token-mean'
  | 'seq-mean-token-sum'
  | 'seq-mean-token-sum-norm'
  | 'luspo';

export const AGGREGATION_MODES: readonly AggregationMode[] = [
  'token-mean',
  'seq-mean-token-mean',
  'seq-mean-token-sum',
  'seq-mean-token-sum-norm',
  'luspo',
];

/** The normalisers of an aggregation. Global counts make gradient accumulation exact (§3.2 item 7). */
export interface AggregationCounts {
  /** token-mean: masked-in tokens across ALL micro-batches of the optimizer step; default: this batch's */
  globalTokenCount?: number;
  /** seq-* and luspo: non-empty sequences across all micro-batches; default: this batch's non-empty rows */
  globalSequenceCount?: number;
  /** seq-mean-token-sum-norm: the constant C (max response length); default: sequenceLength */
  normConstant?: number;
  /** luspo: exponent alpha of the length factor L_i^alpha; default 1 (TRL's LUSPO) */
  luspoLengthExponent?: number;
}

/**
 * Every mode weights token (i,t) by m[i,t] * rowFactor[i], so the loss value is
 * sum_i rowFactor[i] * sum_t m*l and ∂value/∂l[i,t] = m[i,t] * rowFactor[i]. Losses use this to fuse
 * aggregation into their own loop without a [B,T] temporary.
 */
export interface AggregationPlan {
  /** [B] weight of each masked-in token of row i */
  rowFactors: Float64Array;
  /** masked-in tokens in this batch */
  tokenCount: number;
  /** non-empty rows in this batch */
  sequenceCount: number;
}

export interface PlanAggregationOptions extends AggregationCounts {
  mode: AggregationMode;
  /** [B] masked-in tokens per row (L_i) */
  rowLengths: ArrayLike<number>;
  sequenceLength: number;
}

/** Resolve the per-row weights of an aggregation from row lengths and the (optional) global counts. */
export function planAggregation(options: PlanAggregationOptions): AggregationPlan {
  const { mode, rowLengths, sequenceLength } = options;
  const batchSize = rowLengths.length;
  let tokenCount = 0;
  let sequenceCount = 0;
  for (let row = 0; row < batchSize; row++) {
    const length = rowLengths[row] as number;
    tokenCount += length;
    if (length > 0) sequenceCount++;
  }
  const rowFactors = new Float64Array(batchSize);
  if (mode === 'token-mean') {
    const total = resolveCount('globalTokenCount', options.globalTokenCount, tokenCount);
    if (total > 0) rowFactors.fill(1 / total);
    return { rowFactors, tokenCount, sequenceCount };
  }
  if (!AGGREGATION_MODES.includes(mode)) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `unknown aggregation mode "${String(mode)}" (available: ${AGGREGATION_MODES.join(', ')})`,
      details: { mode, available: AGGREGATION_MODES },
    });
  }
  const sequences = resolveCount('globalSequenceCount', options.globalSequenceCount, sequenceCount);
  if (sequences === 0) return { rowFactors, tokenCount, sequenceCount };
  const normConstant = options.normConstant ?? sequenceLength;
  if (mode === 'seq-mean-token-sum-norm') {
    assertNumber('normConstant', normConstant, (value) => value > 0, 'a positive number');
  }
  const exponent = options.luspoLengthExponent ?? 1;
  if (mode === 'luspo') assertNumber('luspoLengthExponent', exponent, () => true, 'a finite number');
  for (let row = 0; row < batchSize; row++) {
    const length = rowLengths[row] as number;
    if (length === 0) continue;
    switch (mode) {
      case 'seq-mean-token-mean':
        rowFactors[row] = 1 / (length * sequences);
        break;
      case 'seq-mean-token-sum':
        rowFactors[row] = 1 / sequences;
        break;
      case 'seq-mean-token-sum-norm':
        rowFactors[row] = 1 / (sequences * normConstant);
        break;
      case 'luspo':
        rowFactors[row] = length ** (exponent - 1) / sequences;
        break;
    }
  }
  return { rowFactors, tokenCount, sequenceCount };
}

/** A global count must be a non-negative integer at least as large as this batch's own count. */
function resolveCount(name: string, global: number | undefined, local: number): number {
  if (global === undefined) return local;
  if (!Number.isInteger(global) || global < local) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `${name} must be an integer >= this batch's count ${local} (got ${global}); it counts every micro-batch of the step`,
      details: { name, global, local },
    });
  }
  return global;
}

/** L_i: masked-in tokens per row. Throws SHAPE_MISMATCH through the caller's shape check first. */
export function countRowLengths(mask: Uint8Array, batchSize: number, sequenceLength: number): Int32Array {
  const lengths = new Int32Array(batchSize);
  for (let row = 0, offset = 0; row < batchSize; row++, offset += sequenceLength) {
    lengths[row] = countNonZero(mask, offset, offset + sequenceLength);
  }
  return lengths;
}
