import { describe, expect, it } from 'vitest';
import { createRng } from '../random/create-rng';
import { computeAdvantages } from './compute-advantages';

// Invariants on seeded random batches with arbitrary, interleaved group ids (aesthetics.md §5.4).
function randomGroups(seed: number) {
  const rng = createRng(seed);
  const batchSize = 40;
  const groupIds = Int32Array.from(
    { length: batchSize },
    () => [-7, 3, 1000, 42, 5][Math.floor(rng.next() * 5)] as number,
  );
  // non-dyadic float32 rewards, some groups binary
  const rewards = Float32Array.from({ length: batchSize }, (_, row) =>
    (groupIds[row] as number) === 3 ? (rng.next() < 0.5 ? 1 : 0) : Math.round(rng.next() * 20) / 20 + 0.05,
  );
  return { batchSize, sequenceLength: 1, groupIds, rewards, lossMask: new Uint8Array(batchSize).fill(1) };
}

function byGroup(groupIds: Int32Array, values: ArrayLike<number>): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (let row = 0; row < groupIds.length; row++) {
    const id = groupIds[row] as number;
    groups.set(id, [...(groups.get(id) ?? []), values[row] as number]);
  }
  return groups;
}

describe('advantage invariants on random batches', () => {
  it('grpo, dr-grpo and rloo advantages have zero mean within every group', () => {
    for (const seed of [1, 2, 3, 4]) {
      const batch = randomGroups(seed);
      for (const estimator of ['grpo', 'dr-grpo', 'rloo']) {
        const result = computeAdvantages({ ...batch, estimator });
        for (const values of byGroup(batch.groupIds, result.sequenceAdvantages ?? []).values()) {
          expect(Math.abs(values.reduce((sum, value) => sum + value, 0) / values.length)).toBeLessThan(1e-5);
        }
      }
    }
  });
  it('rloo equals R_i minus the mean of the other members, computed naively', () => {
    for (const seed of [5, 6]) {
      const batch = randomGroups(seed);
      const result = computeAdvantages({ ...batch, estimator: 'rloo' });
      for (let row = 0; row < batch.batchSize; row++) {
        const others: number[] = [];
        for (let other = 0; other < batch.batchSize; other++) {
          if (other !== row && batch.groupIds[other] === batch.groupIds[row])
            others.push(batch.rewards[other] as number);
        }
        const expected =
          others.length === 0
            ? 0
            : (batch.rewards[row] as number) - others.reduce((sum, value) => sum + value, 0) / others.length;
        const spread =
          Math.max(...others, batch.rewards[row] as number) - Math.min(...others, batch.rewards[row] as number);
        expect(result.sequenceAdvantages?.[row]).toBeCloseTo(spread <= 1e-6 ? 0 : expected, 5);
      }
    }
  });
  it('grpo advantages have unit (unbiased) std in every informative group, up to eps', () => {
    const batch = randomGroups(7);
    const result = computeAdvantages({ ...batch, estimator: 'grpo', options: { epsilon: 0 } });
    for (const values of byGroup(batch.groupIds, result.sequenceAdvantages ?? []).values()) {
      if (values.length < 2 || values.every((value) => value === 0)) continue;
      const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
      const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1);
      expect(variance).toBeCloseTo(1, 4);
    }
  });
});
