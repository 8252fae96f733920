import type { AdvantageContext } from './advantage-estimator';

/**
 * In-place batch whitening over masked-in tokens of included rows: (x - mean) / sqrt(var + eps) with
 * the unbiased variance (verl `masked_whiten`). verl raises for fewer than 2 tokens; we centre instead
 * (one token becomes 0), so a tiny batch never throws or divides by zero.
 */
export function maskedWhiten(options: {
  values: Float32Array;
  mask: Uint8Array;
  includeRow: (row: number) => boolean;
  sequenceLength: number;
  epsilon: number;
}): void {
  const { values, mask, includeRow, sequenceLength, epsilon } = options;
  const batchSize = sequenceLength > 0 ? values.length / sequenceLength : 0;
  let count = 0;
  let sum = 0;
  for (let row = 0; row < batchSize; row++) {
    if (!includeRow(row)) continue;
    for (let index = row * sequenceLength; index < (row + 1) * sequenceLength; index++) {
      if (mask[index] === 0) continue;
      count++;
      sum += values[index] as number;
    }
  }
  if (count === 0) return;
  const mean = sum / count;
  let squares = 0;
  for (let row = 0; row < batchSize; row++) {
    if (!includeRow(row)) continue;
    for (let index = row * sequenceLength; index < (row + 1) * sequenceLength; index++) {
      if (mask[index] === 0) continue;
      const deviation = (values[index] as number) - mean;
      squares += deviation * deviation;
    }
  }
  const scale = count >= 2 ? 1 / Math.sqrt(squares / (count - 1) + epsilon) : 1;
  for (let row = 0; row < batchSize; row++) {
    if (!includeRow(row)) continue;
    for (let index = row * sequenceLength; index < (row + 1) * sequenceLength; index++) {
      if (mask[index] === 0) continue;
      values[index] = ((values[index] as number) - mean) * scale;
    }
  }
}

/** Whiten a token estimator's advantages unless `options.whiten` is false; unscorable rows stay out. */
export function whitenAdvantages(context: AdvantageContext, advantages: Float32Array): void {
  const { rewards, lossMask, sequenceLength, options } = context;
  if (!(options.whiten ?? true)) return;
  maskedWhiten({
    values: advantages,
    mask: lossMask,
    includeRow: (row) => !Number.isNaN(rewards[row] as number),
    sequenceLength,
    epsilon: options.whitenEpsilon ?? 1e-8,
  });
}
