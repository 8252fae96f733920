import { AipoError } from '../errors/aipo-error';
import type { AdvantageOptions } from './advantage-estimator';

/** Groups of an arbitrary (non-contiguous) Int32Array of ids, with float64 statistics. */
export interface GroupStatistics {
  /** number of distinct group ids */
  count: number;
  /** [B] 1 = the sequence is one of the statistics members (scorable and in statisticsMask) */
  member: Uint8Array;
  /** [B] dense group index of each sequence (0..count-1, in order of first appearance) */
  groupOf: Int32Array;
  /** [G] scorable members per group that enter the statistics */
  size: Int32Array;
  /** [G] mean reward over scorable members (0 for a group without any) */
  mean: Float64Array;
  /** [G] std over scorable members ('unbiased' or 'population'; 0 for fewer than 2 members) */
  std: Float64Array;
  /** [G] 1 if max - min is within the zero-variance tolerance (includes singletons and empty groups) */
  zeroVariance: Uint8Array;
}

/**
 * Two-pass mean and variance in float64 (rl-frameworks.md §6): sums of float32 rewards accumulate
 * exactly enough that equal rewards give exactly zero spread.
 */
export function computeGroupStatistics(options: {
  rewards: Float64Array;
  groupIds: Int32Array | undefined;
  settings: AdvantageOptions;
  /** [B] 1 = the sequence enters the group statistics (default: every scorable sequence) */
  statisticsMask?: Uint8Array | undefined;
}): GroupStatistics {
  const { rewards, groupIds, settings, statisticsMask } = options;
  const excluded = (row: number) =>
    Number.isNaN(rewards[row] as number) || (statisticsMask !== undefined && statisticsMask[row] === 0);
  const batchSize = rewards.length;
  const groupOf = new Int32Array(batchSize);
  let count = 0;
  if (groupIds === undefined) {
    // no ids: the whole batch is one group
    count = batchSize > 0 ? 1 : 0;
  } else {
    const dense = new Map<number, number>();
    for (let row = 0; row < batchSize; row++) {
      const id = groupIds[row] as number;
      let index = dense.get(id);
      if (index === undefined) {
        index = count++;
        dense.set(id, index);
      }
      groupOf[row] = index;
    }
  }
  const size = new Int32Array(count);
  const mean = new Float64Array(count);
  const std = new Float64Array(count);
  const minimum = new Float64Array(count).fill(Number.POSITIVE_INFINITY);
  const maximum = new Float64Array(count).fill(Number.NEGATIVE_INFINITY);
  for (let row = 0; row < batchSize; row++) {
    if (excluded(row)) continue;
    const reward = rewards[row] as number;
    const group = groupOf[row] as number;
    size[group] = (size[group] as number) + 1;
    mean[group] = (mean[group] as number) + reward;
    if (reward < (minimum[group] as number)) minimum[group] = reward;
    if (reward > (maximum[group] as number)) maximum[group] = reward;
  }
  for (let group = 0; group < count; group++) {
    if ((size[group] as number) > 0) mean[group] = (mean[group] as number) / (size[group] as number);
  }
  for (let row = 0; row < batchSize; row++) {
    if (excluded(row)) continue;
    const reward = rewards[row] as number;
    const group = groupOf[row] as number;
    const deviation = reward - (mean[group] as number);
    std[group] = (std[group] as number) + deviation * deviation;
  }
  const unbiased = (settings.std ?? 'unbiased') === 'unbiased';
  const tolerance = settings.zeroVarianceTolerance ?? 1e-6;
  if (!(tolerance >= 0)) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `zeroVarianceTolerance must be >= 0 (got ${tolerance})` });
  }
  const zeroVariance = new Uint8Array(count);
  for (let group = 0; group < count; group++) {
    const members = size[group] as number;
    const denominator = unbiased ? members - 1 : members;
    std[group] = members >= 2 && denominator > 0 ? Math.sqrt((std[group] as number) / denominator) : 0;
    const spread = members > 0 ? (maximum[group] as number) - (minimum[group] as number) : 0;
    const scale = Math.max(1, Math.abs(maximum[group] as number), Math.abs(minimum[group] as number));
    zeroVariance[group] = members < 2 || spread <= tolerance * scale ? 1 : 0;
  }
  const member = new Uint8Array(batchSize);
  for (let row = 0; row < batchSize; row++) member[row] = excluded(row) ? 0 : 1;
  return { count, member, groupOf, size, mean, std, zeroVariance };
}

/** Population or unbiased std of the non-NaN entries of `values` (batch-level scaling). */
export function batchStd(values: Float64Array, unbiased: boolean): number {
  let count = 0;
  let sum = 0;
  for (const value of values) {
    if (Number.isNaN(value)) continue;
    count++;
    sum += value;
  }
  if (count < 2) return 0;
  const mean = sum / count;
  let squares = 0;
  for (const value of values) {
    if (Number.isNaN(value)) continue;
    squares += (value - mean) * (value - mean);
  }
  return Math.sqrt(squares / (unbiased ? count - 1 : count));
}
