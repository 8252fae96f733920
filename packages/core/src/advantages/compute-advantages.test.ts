import { describe, expect, it } from 'vitest';
import { expectAipoError } from '../batch/testing/expect-aipo-error';
import type { AdvantageEstimator } from './advantage-estimator';
import { advantageEstimators, builtinAdvantageEstimators, createAdvantageEstimatorRegistry } from './builtin';
import { type ComputeAdvantagesOptions, computeAdvantages, computeSequenceAdvantages } from './compute-advantages';

// Five sequences, T = 3, two interleaved groups with arbitrary ids:
// group 5 = rows 0, 2, 4 with rewards 1, 0, 0; group -2 = rows 1, 3 with rewards 0.5, 1.
const groupIds = Int32Array.from([5, -2, 5, -2, 5]);
const rewards = Float32Array.from([1, 0.5, 0, 1, 0]);
// row lengths 3, 1, 1, 2, 2
const lossMask = Uint8Array.from([1, 1, 1, 1, 0, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0]);
const base = { batchSize: 5, sequenceLength: 3, rewards, lossMask, groupIds };

const stdA = Math.sqrt(((2 / 3) ** 2 + 2 * (1 / 3) ** 2) / 2); // unbiased std of {1, 0, 0}
const stdB = Math.sqrt(2 * 0.25 ** 2); // unbiased std of {0.5, 1}

function sequenceAdvantages(
  options: Partial<ComputeAdvantagesOptions> & { estimator: ComputeAdvantagesOptions['estimator'] },
) {
  const result = computeAdvantages({ ...base, ...options });
  return Array.from(result.sequenceAdvantages ?? []);
}

function expectClose(actual: ArrayLike<number>, expected: number[], digits = 5): void {
  expect(actual.length).toBe(expected.length);
  for (const [index, value] of expected.entries()) expect(actual[index]).toBeCloseTo(value, digits);
}

describe('golden values per estimator (hand-computed)', () => {
  it('grpo: (R - mean_g) / (unbiased std_g + 1e-6)', () => {
    expectClose(sequenceAdvantages({ estimator: 'grpo' }), [
      2 / 3 / (stdA + 1e-6),
      -0.25 / (stdB + 1e-6),
      -1 / 3 / (stdA + 1e-6),
      0.25 / (stdB + 1e-6),
      -1 / 3 / (stdA + 1e-6),
    ]);
  });
  it('grpo with population std and a custom eps (TRL / OpenRLHF parity knobs)', () => {
    const populationA = Math.sqrt(((2 / 3) ** 2 + 2 * (1 / 3) ** 2) / 3);
    const result = sequenceAdvantages({ estimator: 'grpo', options: { std: 'population', epsilon: 1e-4 } });
    expect(result[0]).toBeCloseTo(2 / 3 / (populationA + 1e-4), 5);
    expect(result[1]).toBeCloseTo(-0.25 / (0.25 + 1e-4), 5);
  });
  it('grpo without std normalisation equals dr-grpo: R - mean_g', () => {
    const expected = [2 / 3, -0.25, -1 / 3, 0.25, -1 / 3];
    expectClose(sequenceAdvantages({ estimator: 'grpo', options: { normalizeByStd: false } }), expected);
    expectClose(sequenceAdvantages({ estimator: 'dr-grpo' }), expected);
  });
  it('batch-std: (R - mean_g) / (std of the whole batch + eps); batch std of {1, .5, 0, 1, 0} is 0.5', () => {
    expectClose(
      sequenceAdvantages({ estimator: 'batch-std' }),
      [2 / 3, -0.25, -1 / 3, 0.25, -1 / 3].map((value) => value / (0.5 + 1e-6)),
    );
  });
  it('rloo: R - mean of the other members', () => {
    expectClose(sequenceAdvantages({ estimator: 'rloo' }), [1 - 0, 0.5 - 1, 0 - 0.5, 1 - 0.5, 0 - 0.5]);
  });
  it('opo: length-weighted baseline sum(L*R)/sum(L)', () => {
    // group 5: lengths 3, 1, 2 -> b = 3/6; group -2: lengths 1, 2 -> b = (0.5 + 2)/3
    const baselineB = 2.5 / 3;
    expectClose(sequenceAdvantages({ estimator: 'opo' }), [0.5, 0.5 - baselineB, -0.5, 1 - baselineB, -0.5]);
  });
  it('gpg: alpha = B / #nonzero = 5/3 times the centred reward', () => {
    expectClose(
      sequenceAdvantages({ estimator: 'gpg' }),
      [2 / 3, -0.25, -1 / 3, 0.25, -1 / 3].map((value) => (5 / 3) * value),
    );
  });
  it('grpo-pass@k: only the best of each group learns, by the margin over the runner-up', () => {
    expectClose(sequenceAdvantages({ estimator: 'grpo-pass@k' }), [1 / (stdA + 1e-6), 0, 0, 0.5 / (stdB + 1e-6), 0]);
    expectClose(
      sequenceAdvantages({ estimator: 'grpo-pass@k', options: { normalizeByStd: false } }),
      [1, 0, 0, 0.5, 0],
    );
  });
  it('grpo-pass@k: two equal maxima give the whole group 0', () => {
    const result = computeAdvantages({
      ...base,
      rewards: Float32Array.from([1, 0, 1, 1, 0]),
      groupIds: Int32Array.from([1, 2, 1, 2, 1]),
      estimator: 'grpo-pass@k',
    });
    expectClose(Array.from(result.sequenceAdvantages ?? []), [0, -0, 0, 1 / (Math.SQRT1_2 + 1e-6), 0]);
  });
  it('maxrl: (R - mean_g)/mean_g, 0 when mean_g <= 0', () => {
    expectClose(sequenceAdvantages({ estimator: 'maxrl' }), [2, (0.5 - 0.75) / 0.75, -1, 0.25 / 0.75, -1]);
    const negative = computeAdvantages({
      ...base,
      rewards: Float32Array.from([-1, 0, 1, 0, 0]),
      estimator: 'maxrl',
      groupIds: Int32Array.from([0, 1, 0, 1, 0]),
    });
    expect(Array.from(negative.sequenceAdvantages ?? [])).toEqual([0, 0, 0, 0, 0]);
  });
  it('remax: R - greedy baseline; returns are R', () => {
    const result = computeAdvantages({
      ...base,
      estimator: 'remax',
      rewardBaselines: Float32Array.from([0.5, 0.5, 1, 0, 0]),
    });
    expectClose(Array.from(result.sequenceAdvantages ?? []), [0.5, 0, -1, 1, 0]);
    expectClose(Array.from(result.returns.subarray(0, 3)), [1, 1, 1]);
  });
  it('reinforce++ (gamma 0.5, no whitening): discounted return of the last-token reward plus token rewards', () => {
    const result = computeAdvantages({
      batchSize: 1,
      sequenceLength: 4,
      rewards: Float32Array.from([1]),
      lossMask: Uint8Array.from([1, 1, 1, 0]),
      tokenRewards: Float32Array.from([0, -0.2, 0, 123]),
      estimator: 'reinforce++',
      options: { gamma: 0.5, whiten: false },
    });
    // G_2 = 1, G_1 = -0.2 + 0.5, G_0 = 0 + 0.5 * 0.3
    expectClose(Array.from(result.advantages), [0.15, 0.3, 1, 0]);
    expectClose(Array.from(result.returns), [0.15, 0.3, 1, 0]);
  });
  it('reinforce++ whitening gives zero mean and unit unbiased std over masked tokens', () => {
    const result = computeAdvantages({ ...base, estimator: 'reinforce++', options: { gamma: 0.9 } });
    const values = Array.from(result.advantages).filter((_, index) => lossMask[index] === 1);
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1);
    expect(mean).toBeCloseTo(0, 6);
    expect(variance).toBeCloseTo(1, 5);
  });
  it('reinforce++-baseline: centred group reward broadcast, then whitened over the batch', () => {
    const plain = computeAdvantages({ ...base, estimator: 'reinforce++-baseline', options: { whiten: false } });
    expectClose(Array.from(plain.advantages.subarray(0, 6)), [2 / 3, 2 / 3, 2 / 3, -0.25, 0, 0]);
    const whitened = computeAdvantages({ ...base, estimator: 'reinforce++-baseline' });
    const values = Array.from(whitened.advantages).filter((_, index) => lossMask[index] === 1);
    expect(values.reduce((sum, value) => sum + value, 0)).toBeCloseTo(0, 5);
  });
  it('gae skips masked positions inside a row (gamma 0.9, lambda 0.8)', () => {
    const result = computeAdvantages({
      batchSize: 1,
      sequenceLength: 3,
      rewards: Float32Array.from([1]),
      lossMask: Uint8Array.from([1, 0, 1]),
      values: Float32Array.from([0.5, 99, 0.2]),
      estimator: 'gae',
      options: { gamma: 0.9, lambda: 0.8, whiten: false },
    });
    // t=2: delta = 1 - 0.2 = 0.8; t=0: delta = 0.9*0.2 - 0.5 = -0.32, A = -0.32 + 0.72*0.8 = 0.256
    expectClose(Array.from(result.advantages), [0.256, 0, 0.8]);
    expectClose(Array.from(result.returns), [0.756, 0, 1]);
  });
});

describe('groups, singletons, zero variance, unscorable rewards', () => {
  it('arbitrary group ids: permuting rows permutes the advantages', () => {
    const order = [3, 0, 4, 1, 2];
    const permutedMask = new Uint8Array(15);
    for (const [target, source] of order.entries())
      permutedMask.set(lossMask.subarray(source * 3, source * 3 + 3), target * 3);
    const permuted = computeAdvantages({
      ...base,
      estimator: 'grpo',
      rewards: Float32Array.from(order.map((row) => rewards[row] as number)),
      groupIds: Int32Array.from(order.map((row) => groupIds[row] as number)),
      lossMask: permutedMask,
    });
    const original = sequenceAdvantages({ estimator: 'grpo' });
    expectClose(
      Array.from(permuted.sequenceAdvantages ?? []),
      order.map((row) => original[row] as number),
      6,
    );
  });
  it('singleton groups follow the explicit policy', () => {
    const singleton = { ...base, groupIds: Int32Array.from([1, 2, 1, 2, 9]) };
    expect(computeAdvantages({ ...singleton, estimator: 'grpo' }).sequenceAdvantages?.[4]).toBe(0);
    const raw = computeAdvantages({
      ...singleton,
      rewards: Float32Array.from([1, 0.5, 0, 1, 0.75]),
      estimator: 'rloo',
      options: { singletonPolicy: 'raw-reward' },
    });
    expect(raw.sequenceAdvantages?.[4]).toBe(0.75);
    expect(raw.diagnostics.singletonGroupCount).toBe(1);
    expectAipoError(
      () => computeAdvantages({ ...singleton, estimator: 'grpo', options: { singletonPolicy: 'error' } }),
      'INVALID_ARGUMENT',
    );
  });
  it('all-equal float32 rewards (0.35) give exactly 0 and are reported in zeroVarianceMask', () => {
    const equal = Float32Array.from([0.35, 0.35, 0.35, 0.35]);
    for (const estimator of ['grpo', 'rloo', 'batch-std', 'opo', 'gpg', 'maxrl', 'grpo-pass@k']) {
      const result = computeAdvantages({
        batchSize: 4,
        sequenceLength: 1,
        rewards: equal,
        lossMask: new Uint8Array(4).fill(1),
        estimator,
      });
      expect(Array.from(result.advantages)).toEqual([0, 0, 0, 0]);
      expect(Array.from(result.zeroVarianceMask)).toEqual([1, 1, 1, 1]);
    }
  });
  it('a float32 spread below the tolerance counts as zero variance (no 1/std blow-up, NeMo-RL PR #4161)', () => {
    const nearlyEqual = Float32Array.from([0.3, 0.3, 0.30000001, 0.3, 1, 0]);
    const result = computeAdvantages({
      batchSize: 6,
      sequenceLength: 1,
      rewards: nearlyEqual,
      lossMask: new Uint8Array(6).fill(1),
      groupIds: Int32Array.from([0, 0, 0, 0, 1, 1]),
      estimator: 'grpo',
    });
    expect(Array.from(result.advantages.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    expect(Array.from(result.zeroVarianceMask)).toEqual([1, 1, 1, 1, 0, 0]);
    expect(result.diagnostics.zeroVarianceGroupFraction).toBe(0.5);
    // a tolerance of 0 treats the same group as informative
    const strict = computeAdvantages({
      batchSize: 6,
      sequenceLength: 1,
      rewards: Float32Array.from([0.3, 0.3, 0.31, 0.3, 1, 0]),
      lossMask: new Uint8Array(6).fill(1),
      groupIds: Int32Array.from([0, 0, 0, 0, 1, 1]),
      estimator: 'grpo',
      options: { zeroVarianceTolerance: 0 },
    });
    expect(strict.zeroVarianceMask[0]).toBe(0);
    expect(Math.abs(strict.advantages[2] as number)).toBeGreaterThan(1);
  });
  it('NaN rewards: excluded from the statistics with advantage 0, or zero, or an error', () => {
    const withNaN = Float32Array.from([1, 0.5, Number.NaN, 1, 0]);
    const excluded = computeAdvantages({ ...base, rewards: withNaN, estimator: 'dr-grpo' });
    // group 5 is now {1, 0}: mean 0.5
    expectClose(Array.from(excluded.sequenceAdvantages ?? []), [0.5, -0.25, 0, 0.25, -0.5]);
    expect(Array.from(excluded.scorableMask)).toEqual([1, 1, 0, 1, 1]);
    expect(excluded.diagnostics.unscorableCount).toBe(1);
    expect(Array.from(excluded.advantages.subarray(6, 9))).toEqual([0, 0, 0]);
    const zero = computeAdvantages({
      ...base,
      rewards: withNaN,
      estimator: 'dr-grpo',
      options: { unscorablePolicy: 'zero' },
    });
    expectClose(Array.from(zero.sequenceAdvantages ?? []), [2 / 3, -0.25, -1 / 3, 0.25, -1 / 3]);
    expectAipoError(
      () => computeAdvantages({ ...base, rewards: withNaN, estimator: 'grpo', options: { unscorablePolicy: 'error' } }),
      'NON_FINITE_INPUT',
    );
    expectAipoError(
      () =>
        computeAdvantages({
          ...base,
          rewards: Float32Array.from([1, 0, Number.POSITIVE_INFINITY, 0, 0]),
          estimator: 'grpo',
        }),
      'NON_FINITE_INPUT',
    );
  });
  it('token estimators also leave unscorable rows at 0', () => {
    const result = computeAdvantages({
      ...base,
      rewards: Float32Array.from([Number.NaN, 0.5, 0, 1, 0]),
      estimator: 'reinforce++',
    });
    expect(Array.from(result.advantages.subarray(0, 3))).toEqual([0, 0, 0]);
  });
  it('diagnostics: advantage mean/min/max over masked-in tokens, for sequence and token estimators', () => {
    for (const estimator of ['grpo', 'reinforce++']) {
      const result = computeAdvantages({ ...base, estimator });
      const values = Array.from(result.advantages).filter((_, index) => lossMask[index] === 1);
      expect(result.diagnostics.advantageMean).toBeCloseTo(
        values.reduce((sum, value) => sum + value, 0) / values.length,
        6,
      );
      expect(result.diagnostics.advantageMin).toBe(Math.min(...values));
      expect(result.diagnostics.advantageMax).toBe(Math.max(...values));
    }
  });
  it('empty rows keep their reward in the group statistics but get no token advantage', () => {
    const emptyRow = Uint8Array.from(lossMask);
    emptyRow.fill(0, 0, 3);
    const result = computeAdvantages({ ...base, lossMask: emptyRow, estimator: 'dr-grpo' });
    expect(Array.from(result.advantages.subarray(0, 3))).toEqual([0, 0, 0]);
    expect(result.sequenceAdvantages?.[2]).toBeCloseTo(-1 / 3, 6);
  });
  it('GAE rejects a NaN value at a masked-in position but ignores masked-out ones', () => {
    const options = {
      batchSize: 1,
      sequenceLength: 2,
      rewards: Float32Array.from([1]),
      lossMask: Uint8Array.from([1, 0]),
      estimator: 'gae',
    } as const;
    expect(() => computeAdvantages({ ...options, values: Float32Array.from([0, Number.NaN]) })).not.toThrow();
    expectAipoError(
      () => computeAdvantages({ ...options, values: Float32Array.from([Number.NaN, 0]) }),
      'NON_FINITE_INPUT',
    );
  });
});

describe('group composition: statisticsMask (LUFFY grpo_split)', () => {
  const shape = {
    batchSize: 4,
    sequenceLength: 1,
    lossMask: new Uint8Array(4).fill(1),
    groupIds: Int32Array.from([0, 0, 0, 0]),
  };
  it('the off-policy sample is scored against the on-policy statistics only', () => {
    const rewards = Float32Array.from([0, 0, 1, 1]);
    const statisticsMask = Uint8Array.from([1, 1, 1, 0]);
    const dr = computeAdvantages({ ...shape, rewards, statisticsMask, estimator: 'dr-grpo' });
    expectClose(Array.from(dr.sequenceAdvantages ?? []), [-1 / 3, -1 / 3, 2 / 3, 2 / 3]);
    const rloo = computeAdvantages({ ...shape, rewards, statisticsMask, estimator: 'rloo' });
    expectClose(Array.from(rloo.sequenceAdvantages ?? []), [-0.5, -0.5, 1, 2 / 3]);
    // without the switch the off-policy sample is inside the group statistics (LUFFY's default)
    const mixed = computeAdvantages({ ...shape, rewards, estimator: 'dr-grpo' });
    expectClose(Array.from(mixed.sequenceAdvantages ?? []), [-0.5, -0.5, 0.5, 0.5]);
  });
  it('all on-policy samples wrong: they get exactly 0, the correct trace still learns', () => {
    const result = computeAdvantages({
      ...shape,
      rewards: Float32Array.from([0, 0, 0, 1]),
      statisticsMask: Uint8Array.from([1, 1, 1, 0]),
      estimator: 'dr-grpo',
    });
    expect(Array.from(result.sequenceAdvantages ?? [])).toEqual([0, 0, 0, 1]);
    expect(Array.from(result.zeroVarianceMask)).toEqual([1, 1, 1, 1]);
    expectAipoError(
      () =>
        computeAdvantages({
          ...shape,
          rewards: Float32Array.from([0, 0, 0, 1]),
          statisticsMask: new Uint8Array(2),
          estimator: 'grpo',
        }),
      'SHAPE_MISMATCH',
    );
  });
});

describe('multi-reward combination', () => {
  const correctness = Float32Array.from([1, 0, 0, 1]);
  const format = Float32Array.from([1, 1, 0, 0]);
  const ids = Int32Array.from([0, 0, 1, 1]);
  const shape = { batchSize: 4, sequenceLength: 1, lossMask: new Uint8Array(4).fill(1), groupIds: ids };
  it('sum-then-normalize: R = sum w_k R_k, then the estimator', () => {
    const result = computeAdvantages({
      ...shape,
      estimator: 'dr-grpo',
      rewards: { components: [correctness, format], weights: [1, 0.5], combine: 'sum-then-normalize' },
    });
    expectClose(Array.from(result.rewards), [1.5, 0.5, 0, 1]);
    expectClose(Array.from(result.sequenceAdvantages ?? []), [0.5, -0.5, -0.5, 0.5]);
  });
  it('normalize-then-sum (GDPO): per-component group z-scores, weighted sum, batch z-score', () => {
    const formatB = Float32Array.from([1, 0, 1, 1]);
    const result = computeAdvantages({
      ...shape,
      estimator: 'dr-grpo',
      rewards: { components: [correctness, formatB], weights: [1, 0.5], combine: 'normalize-then-sum' },
    });
    // each informative group is {x, y} with unbiased std sqrt(0.5): z = +-0.5/(sqrt(0.5) + 1e-4);
    // format's group 1 = {1, 1} has no spread and contributes 0
    const z = 0.5 / (Math.SQRT1_2 + 1e-4);
    const raw = [z + 0.5 * z, -z - 0.5 * z, -z, z];
    const std = Math.sqrt(raw.reduce((sum, value) => sum + value ** 2, 0) / 3); // the mean is 0
    expectClose(
      Array.from(result.rewards),
      raw.map((value) => value / (std + 1e-4)),
    );
    // dr-grpo leaves GDPO's already group-centred values unchanged
    expectClose(Array.from(result.sequenceAdvantages ?? []), Array.from(result.rewards), 6);
  });
  it('rejects mismatched components and weights', () => {
    expectAipoError(
      () =>
        computeAdvantages({
          ...shape,
          estimator: 'grpo',
          rewards: { components: [correctness, Float32Array.from([1])], combine: 'sum-then-normalize' },
        }),
      'SHAPE_MISMATCH',
    );
    expectAipoError(
      () =>
        computeAdvantages({
          ...shape,
          estimator: 'grpo',
          rewards: { components: [correctness], weights: [1, 2], combine: 'sum-then-normalize' },
        }),
      'SHAPE_MISMATCH',
    );
  });
});

describe('advantage estimator registry', () => {
  it('lists every built-in estimator of the issue', () => {
    expect(advantageEstimators.list()).toEqual([
      'grpo',
      'dr-grpo',
      'batch-std',
      'rloo',
      'reinforce++',
      'reinforce++-baseline',
      'remax',
      'opo',
      'gpg',
      'grpo-pass@k',
      'maxrl',
      'gae',
      'optimal-token-baseline',
    ]);
    expect(builtinAdvantageEstimators.length).toBe(13);
  });
  it('an unknown name throws UNKNOWN_ENTRY listing the available ones', () => {
    const error = expectAipoError(() => computeAdvantages({ ...base, estimator: 'ppo-gae' }), 'UNKNOWN_ENTRY');
    expect(error.message).toContain('grpo, dr-grpo');
  });
  it('a custom estimator registered on a fresh registry is used by name; the default registry is untouched', () => {
    const constant: AdvantageEstimator = {
      id: 'constant',
      description: 'test',
      level: 'sequence',
      compute: (context) => ({ advantages: new Float64Array(context.batchSize).fill(2) }),
    };
    const registry = createAdvantageEstimatorRegistry().register('constant', constant);
    const result = computeAdvantages({ ...base, estimator: 'constant', registry });
    expect(Array.from(result.advantages.subarray(0, 4))).toEqual([2, 2, 2, 2]);
    expect(advantageEstimators.has('constant')).toBe(false);
  });
  it('missing required inputs and shape mismatches are typed errors', () => {
    expectAipoError(() => computeAdvantages({ ...base, estimator: 'gae' }), 'INVALID_ARGUMENT');
    expectAipoError(() => computeAdvantages({ ...base, estimator: 'remax' }), 'INVALID_ARGUMENT');
    expectAipoError(
      () => computeAdvantages({ ...base, groupIds: Int32Array.from([1, 2]), estimator: 'grpo' }),
      'SHAPE_MISMATCH',
    );
    expectAipoError(
      () => computeAdvantages({ ...base, rewards: Float32Array.from([1]), estimator: 'grpo' }),
      'SHAPE_MISMATCH',
    );
  });
});

describe('computeSequenceAdvantages (no [B,T] broadcast)', () => {
  it('equals computeAdvantages for every sequence-level estimator, diagnostics included', () => {
    for (const estimator of builtinAdvantageEstimators.filter((entry) => entry.level === 'sequence')) {
      const extra = estimator.requires?.includes('rewardBaselines')
        ? { rewardBaselines: Float32Array.from([0.5, 0.5, 1, 0, 0]) }
        : {};
      const full = computeAdvantages({ ...base, ...extra, estimator: estimator.id });
      const compact = computeSequenceAdvantages({ ...base, ...extra, estimator: estimator.id });
      expect(Array.from(compact.sequenceAdvantages)).toEqual(Array.from(full.sequenceAdvantages ?? []));
      expect(compact.diagnostics).toEqual(full.diagnostics);
      expect(Array.from(compact.zeroVarianceMask)).toEqual(Array.from(full.zeroVarianceMask));
    }
    const remax = computeSequenceAdvantages({
      ...base,
      estimator: 'remax',
      rewardBaselines: Float32Array.from([0.5, 0.5, 1, 0, 0]),
    });
    expect(Array.from(remax.sequenceReturns ?? [])).toEqual([1, 0.5, 0, 1, 0]);
  });
  it('refuses token-level estimators', () => {
    expectAipoError(() => computeSequenceAdvantages({ ...base, estimator: 'reinforce++' }), 'INVALID_ARGUMENT');
  });
});
