import { describe, expect, it } from 'vitest';
import { errorCodeOf } from '../batch/testing/expect-aipo-error';
import { clipRewards } from './clip-rewards';
import { groupFilterMask } from './group-filter';

describe('groupFilterMask (DAPO dynamic sampling)', () => {
  // groups (non-contiguous ids): 4 = {1, 1} all correct, 9 = {0, 1}, 2 = {0.35, 0.35} in float32, 5 = {NaN}
  const rewards = Float32Array.from([1, 0, 0.35, 1, 1, 0.35, Number.NaN]);
  const groupIds = Int32Array.from([4, 9, 2, 4, 9, 2, 5]);
  it('drops zero-variance groups and groups without a scorable reward', () => {
    const result = groupFilterMask({ rewards, groupIds });
    expect(Array.from(result.keep)).toEqual([0, 1, 0, 0, 1, 0, 0]);
    expect(result.keptGroupCount).toBe(1);
    expect(result.droppedGroupCount).toBe(3);
  });
  it('filters by mean range (OpenRLHF dynamic_filtering_range) with the variance test off', () => {
    const result = groupFilterMask({ rewards, groupIds, dropZeroVariance: false, meanLower: 0.2, meanUpper: 0.99 });
    expect(Array.from(result.keep)).toEqual([0, 1, 1, 0, 1, 1, 0]);
  });
  it('rejects an empty mean range and infinite rewards', () => {
    expect(errorCodeOf(() => groupFilterMask({ rewards, groupIds, meanLower: 1, meanUpper: 0 }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(errorCodeOf(() => groupFilterMask({ rewards: Float32Array.from([Number.POSITIVE_INFINITY]) }))).toBe(
      'NON_FINITE_INPUT',
    );
    expect(errorCodeOf(() => groupFilterMask({ rewards, groupIds: new Int32Array(2) }))).toBe('SHAPE_MISMATCH');
  });
});

describe('clipRewards', () => {
  it('clips into [lower, upper] and keeps NaN', () => {
    const result = clipRewards({ rewards: Float32Array.from([-20, 3, 15, Number.NaN]), lower: -10, upper: 10 });
    expect(Array.from(result.rewards.subarray(0, 3))).toEqual([-10, 3, 10]);
    expect(Number.isNaN(result.rewards[3])).toBe(true);
    expect(result.clippedCount).toBe(2);
    expect(errorCodeOf(() => clipRewards({ rewards: new Float32Array(1), lower: 1, upper: 0 }))).toBe(
      'INVALID_ARGUMENT',
    );
  });
});
