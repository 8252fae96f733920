import { describe, expect, it } from 'vitest';
import { expectAipoError } from '../batch/testing/expect-aipo-error';
import { createRng } from '../random/create-rng';
import { computeAdvantages } from './compute-advantages';
import { createOptimalTokenBaselineEstimator, type OptimalTokenBaselineInput } from './optimal-token-baseline';

const estimatorOf = (input: OptimalTokenBaselineInput) => createOptimalTokenBaselineEstimator(input);

describe('optimal token baseline (verl optimal_token_baseline)', () => {
  it('golden: two members, two tokens, hand-computed W and per-position baselines', () => {
    // row 0: terms 1 - 1 + 0.5 = 0.5 twice -> W = [0.5, 1]; row 1: 1 - 1.8 + 0.82 = 0.02, 1 - 0.4 + 0.5 = 1.1 -> W = [0.02, 1.12]
    const result = computeAdvantages({
      estimator: estimatorOf({
        probs: Float64Array.from([0.5, 0.5, 0.9, 0.2]),
        sumSquaredProbs: Float64Array.from([0.5, 0.5, 0.82, 0.5]),
      }),
      batchSize: 2,
      sequenceLength: 2,
      rewards: Float64Array.from([1, 0]),
      lossMask: new Uint8Array(4).fill(1),
      groupIds: Int32Array.from([0, 0]),
    });
    const b0 = 0.5 / 0.52;
    const b1 = 1 / 2.12;
    const expected = [1 - b0, 1 - b1, -b0, -b1];
    for (const [index, value] of expected.entries()) expect(result.advantages[index]).toBeCloseTo(value, 6);
    expect(Array.from(result.returns)).toEqual([1, 1, 0, 0]);
  });

  it('equal statistics and equal lengths reduce it to Dr.GRPO (R - group mean) on every token', () => {
    const rng = createRng(4);
    const B = 8;
    const T = 5;
    const rewards = Float64Array.from({ length: B }, () => Math.round(rng.next()));
    const groupIds = Int32Array.from({ length: B }, (_, row) => row % 2);
    const base = { batchSize: B, sequenceLength: T, rewards, lossMask: new Uint8Array(B * T).fill(1), groupIds };
    const otb = computeAdvantages({
      ...base,
      estimator: estimatorOf({ probs: new Float64Array(B * T).fill(0.3), sumSquaredProbs: new Float64Array(B * T).fill(0.2) }),
    });
    const dr = computeAdvantages({ ...base, estimator: 'dr-grpo' });
    for (let index = 0; index < B * T; index++) expect(otb.advantages[index]).toBeCloseTo(dr.advantages[index] as number, 6);
  });

  it('ragged rows, token rewards, gamma, IS weights and an excluded row match a brute-force float64 reference', () => {
    const rng = createRng(9);
    const B = 9;
    const T = 6;
    const lengths = Array.from({ length: B }, (_, row) => (row === 4 ? 0 : 1 + Math.floor(rng.next() * T)));
    const lossMask = Uint8Array.from({ length: B * T }, (_, index) => ((index % T) < (lengths[Math.floor(index / T)] as number) ? 1 : 0));
    const probs = Float64Array.from({ length: B * T }, () => rng.next());
    const sumSquaredProbs = Float64Array.from(probs, (p) => p * p + (1 - p * p) * rng.next() * 0.5);
    const isWeights = Float64Array.from({ length: B * T }, () => 0.5 + rng.next());
    const tokenRewards = Float64Array.from({ length: B * T }, () => (rng.next() - 0.5) * 0.1);
    const rewards = Float64Array.from({ length: B }, (_, row) => (row === 7 ? Number.NaN : rng.next()));
    const groupIds = Int32Array.from({ length: B }, (_, row) => row % 3);
    const gamma = 0.9;
    const result = computeAdvantages({
      estimator: estimatorOf({ probs, sumSquaredProbs, isWeights }),
      batchSize: B,
      sequenceLength: T,
      rewards,
      lossMask,
      groupIds,
      tokenRewards,
      options: { gamma },
    });
    // reference: returns and W per row, then for every (group, column) the weighted mean over live rows
    const live = (row: number) => !Number.isNaN(rewards[row] as number);
    const returns: number[][] = [];
    const weights: number[][] = [];
    for (let row = 0; row < B; row++) {
      const length = lengths[row] as number;
      const g: number[] = new Array(length).fill(0);
      const w: number[] = new Array(length).fill(0);
      for (let t = length - 1; t >= 0; t--) {
        const reward = (tokenRewards[row * T + t] as number) + (t === length - 1 ? (rewards[row] as number) : 0);
        g[t] = reward + (t === length - 1 ? 0 : gamma * (g[t + 1] as number));
      }
      let acc = 0;
      for (let t = 0; t < length; t++) {
        const i = row * T + t;
        acc += (1 - 2 * (probs[i] as number) + (sumSquaredProbs[i] as number)) * (isWeights[i] as number) ** 2;
        w[t] = acc;
      }
      returns.push(g);
      weights.push(w);
    }
    let checked = 0;
    for (let row = 0; row < B; row++) {
      for (let t = 0; t < T; t++) {
        const index = row * T + t;
        if (!live(row) || t >= (lengths[row] as number)) {
          expect(result.advantages[index]).toBe(0);
          continue;
        }
        let numerator = 0;
        let denominator = 0;
        for (let other = 0; other < B; other++) {
          if (groupIds[other] !== groupIds[row] || !live(other) || t >= (lengths[other] as number)) continue;
          numerator += (weights[other]?.[t] as number) * (returns[other]?.[t] as number);
          denominator += weights[other]?.[t] as number;
        }
        expect(result.advantages[index]).toBeCloseTo((returns[row]?.[t] as number) - numerator / denominator, 5);
        expect(result.returns[index]).toBeCloseTo(returns[row]?.[t] as number, 6);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(15);
  });

  it('all-zero weights (a deterministic policy: π = 1, sum π^2 = 1) fall back to the plain mean, never NaN', () => {
    const result = computeAdvantages({
      estimator: estimatorOf({ probs: new Float64Array(2).fill(1), sumSquaredProbs: new Float64Array(2).fill(1) }),
      batchSize: 2,
      sequenceLength: 1,
      rewards: Float64Array.from([1, 0]),
      lossMask: Uint8Array.from([1, 1]),
      groupIds: Int32Array.from([0, 0]),
    });
    expect(Array.from(result.advantages)).toEqual([0.5, -0.5]);
  });

  it('bad statistics are typed errors; garbage in masked-out positions is ignored', () => {
    const base = {
      batchSize: 1,
      sequenceLength: 2,
      rewards: Float64Array.from([1]),
      lossMask: Uint8Array.from([1, 0]),
    };
    const run = (probs: number[], sumSquaredProbs: number[]) =>
      computeAdvantages({
        ...base,
        estimator: estimatorOf({ probs: Float64Array.from(probs), sumSquaredProbs: Float64Array.from(sumSquaredProbs) }),
      });
    expect(run([0.5, Number.NaN], [0.3, Number.NaN]).advantages[0]).toBe(0);
    expectAipoError(() => run([1.5, 0], [0.5, 0]), 'INVALID_ARGUMENT');
    expectAipoError(() => run([0.8, 0], [0.5, 0]), 'INVALID_ARGUMENT');
    expectAipoError(() => run([Number.NaN, 0], [0.5, 0]), 'NON_FINITE_INPUT');
    expectAipoError(() => run([0.5], [0.5]), 'SHAPE_MISMATCH');
  });

  it("is registered as 'optimal-token-baseline': tokenStatistics by name gives the factory's result; missing is INVALID_ARGUMENT", () => {
    const tokenStatistics = {
      probs: Float64Array.from([0.5, 0.5, 0.9, 0.2]),
      sumSquaredProbs: Float64Array.from([0.5, 0.5, 0.82, 0.5]),
    };
    const base = {
      batchSize: 2,
      sequenceLength: 2,
      rewards: Float64Array.from([1, 0]),
      lossMask: new Uint8Array(4).fill(1),
      groupIds: Int32Array.from([0, 0]),
    };
    const byName = computeAdvantages({ ...base, estimator: 'optimal-token-baseline', tokenStatistics });
    const fromFactory = computeAdvantages({ ...base, estimator: estimatorOf(tokenStatistics) });
    expect(Array.from(byName.advantages)).toEqual(Array.from(fromFactory.advantages));
    // the golden values of the first test: 1 - 0.5/0.52 on the first token
    expect(byName.advantages[0]).toBeCloseTo(1 - 0.5 / 0.52, 6);
    const missing = expectAipoError(() => computeAdvantages({ ...base, estimator: 'optimal-token-baseline' }), 'INVALID_ARGUMENT');
    expect(missing.message).toContain('tokenStatistics');
    expect(missing.details).toMatchObject({ estimator: 'optimal-token-baseline', missing: 'tokenStatistics' });
    expectAipoError(
      () =>
        computeAdvantages({
          ...base,
          estimator: 'optimal-token-baseline',
          tokenStatistics: { ...tokenStatistics, sumSquaredProbs: new Float64Array(3) },
        }),
      'SHAPE_MISMATCH',
    );
  });
});
