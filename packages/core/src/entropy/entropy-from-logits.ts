import { assertNumber } from '../batch/assert-finite';
import type { FloatArray } from '../batch/float-array';
import { AipoError } from '../errors/aipo-error';

export interface EntropyFromLogitsOptions {
  /** [N,V] row-major logits; may be one chunk of a larger batch (see `output` / `outputOffset`) */
  logits: FloatArray;
  /** V: vocabulary size (row length) */
  vocabSize: number;
  /** sampling temperature τ: the distribution is softmax(z/τ), as verl divides logits before entropy (default 1) */
  temperature?: number;
  /** [N] 1 = compute this row; 0 rows are skipped (their logits are never read) and get 0 */
  rowMask?: Uint8Array;
  /** write into this array instead of allocating (streaming chunks of rows into one [total] result) */
  output?: Float32Array;
  /** where row 0 of this chunk lands in `output` (default 0) */
  outputOffset?: number;
}

/**
 * Per-row entropy H = logsumexp(z) − Σ softmax(z)·z of a categorical given by logits (verl
 * `entropy_from_logits`, TRL `entropy_from_logits`), in the stable form with m = max z:
 * H = log s − Σ e_v·(z_v − m)/s, s = Σ e_v, e_v = exp(z_v − m). One exp per logit, sums in float64.
 *
 * Rows are processed one at a time, so extra memory is O(1) whatever N and V are; verl's and
 * TRL's chunking exists only to bound torch's [chunk,V] temporaries. To bound the *input*, pass
 * the logits in chunks of rows with a shared `output` and advancing `outputOffset`.
 *
 * −∞ logits (vocabulary masked out by top-k/top-p) have probability 0 and are skipped, so they
 * never produce 0·∞ = NaN (rl-frameworks.md §3.2 item 4); NaN, +∞ or an all-−∞ row is an error.
 * This is the *full-distribution* entropy; from top-k log-probs alone it would only be a bound
 * (§3.2 item 13).
 */
export function entropyFromLogits(options: EntropyFromLogitsOptions): Float32Array {
  const { logits, vocabSize, rowMask, temperature = 1, outputOffset = 0 } = options;
  const rows = countRows({ values: logits, rowLength: vocabSize, rowMask });
  assertNumber('temperature', temperature, (value) => value > 0, 'a positive number');
  const output = options.output ?? new Float32Array(rows);
  if (!Number.isInteger(outputOffset) || outputOffset < 0 || outputOffset + rows > output.length) {
    throw new AipoError({
      code: 'SHAPE_MISMATCH',
      message: `output has ${output.length} entries; rows ${outputOffset}..${outputOffset + rows - 1} do not fit`,
      details: { outputLength: output.length, outputOffset, rows },
    });
  }
  const inverse = 1 / temperature;
  for (let row = 0; row < rows; row++) {
    if (rowMask !== undefined && rowMask[row] === 0) {
      output[outputOffset + row] = 0;
      continue;
    }
    output[outputOffset + row] = rowEntropy({ logits, row, vocabSize, inverse }).entropy;
  }
  return output;
}

/**
 * One row's stable softmax statistics: m = max z/τ, s = Σ exp(z/τ − m) and H. Writes each
 * exp(z/τ − m) into `scratch` (same indexing as `logits`) when given, for the backward pass.
 */
export function rowEntropy(options: { logits: FloatArray; row: number; vocabSize: number; inverse: number; scratch?: Float32Array }): {
  max: number;
  sum: number;
  entropy: number;
} {
  const { logits, row, vocabSize, inverse, scratch } = options;
  const offset = row * vocabSize;
  const max = rowMax({ logits, offset, vocabSize, row }) * inverse;
  let sum = 0;
  let weighted = 0;
  for (let v = offset; v < offset + vocabSize; v++) {
    const shifted = (logits[v] as number) * inverse - max;
    const e = Math.exp(shifted);
    if (scratch !== undefined) scratch[v] = e;
    sum += e;
    // exp(−∞) = 0 would make 0·(−∞) = NaN; an underflowed term contributes nothing anyway.
    if (e !== 0) weighted += e * shifted;
  }
  return { max, sum, entropy: Math.max(0, Math.log(sum) - weighted / sum) };
}

/** N from the array length, validating the [N, rowLength] shape and the optional row mask. */
export function countRows(options: {
  values: FloatArray;
  rowLength: number;
  rowMask?: Uint8Array | undefined;
  names?: { values: string; rowLength: string };
}): number {
  const { values, rowLength, rowMask, names = { values: 'logits', rowLength: 'vocabSize' } } = options;
  if (!Number.isInteger(rowLength) || rowLength < 1) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `${names.rowLength} must be a positive integer (got ${rowLength})` });
  }
  if (values.length % rowLength !== 0) {
    throw new AipoError({
      code: 'SHAPE_MISMATCH',
      message: `${names.values} has ${values.length} entries, not a multiple of ${names.rowLength} ${rowLength}`,
      details: { length: values.length, [names.rowLength]: rowLength },
    });
  }
  const rows = values.length / rowLength;
  if (rowMask !== undefined && rowMask.length !== rows) {
    throw new AipoError({
      code: 'SHAPE_MISMATCH',
      message: `rowMask has ${rowMask.length} entries, expected ${rows} rows`,
      details: { length: rowMask.length, expected: rows },
    });
  }
  return rows;
}

/** Max of one row, rejecting NaN, +∞ and rows with no finite logit. */
export function rowMax(options: { logits: FloatArray; offset: number; vocabSize: number; row: number }): number {
  const { logits, offset, vocabSize, row } = options;
  let max = Number.NEGATIVE_INFINITY;
  for (let v = offset; v < offset + vocabSize; v++) {
    const value = logits[v] as number;
    if (value > max) max = value;
    // biome-ignore lint/suspicious/noSelfCompare: the cheapest NaN test in this hot loop
    else if (value !== value) throw logitError({ row, column: v - offset, value });
  }
  if (max === Number.POSITIVE_INFINITY || max === Number.NEGATIVE_INFINITY) throw logitError({ row, column: -1, value: max });
  return max;
}

function logitError(options: { row: number; column: number; value: number }): AipoError {
  const { row, column, value } = options;
  return new AipoError({
    code: 'NON_FINITE_INPUT',
    message:
      column < 0
        ? `logits row ${row} has no finite maximum (${value}); every row needs at least one finite logit and no +Infinity`
        : `logits[${row},${column}] is NaN`,
    details: { row, column, value },
  });
}
