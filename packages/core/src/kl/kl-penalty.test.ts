import { describe, expect, it } from 'vitest';
import {
  AGGREGATION_MODES,
  createAdaptiveKlController,
  createFixedKlController,
  createKlEstimatorRegistry,
  createRng,
  klEstimators,
  klPenalty,
  normal,
  type AggregationMode,
} from '../index';
import { expectClose, finiteDifferences as differences } from './gradient-check';

const B = 3;
const T = 4;
// row 2 is empty except one token; row 1 has a masked-out -inf (top-k sampling, §3.2 item 4)
const mask = Uint8Array.from([1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 1]);
const finiteDifferences = (x: Float64Array, loss: (perturbed: Float64Array) => number): Float64Array => differences(x, loss, (index) => mask[index] !== 0);

function randomBatch(seed: number): { logProbs: Float64Array; refLogProbs: Float64Array; oldLogProbs: Float64Array } {
  const rng = createRng(seed);
  const draw = (): Float64Array => Float64Array.from({ length: B * T }, () => -Math.abs(normal(rng, { std: 1.5 })));
  const logProbs = draw();
  const refLogProbs = Float64Array.from(logProbs, (value) => value + normal(rng, { std: 0.7 }));
  const oldLogProbs = Float64Array.from(logProbs, (value) => value + normal(rng, { std: 0.3 }));
  logProbs[6] = Number.NEGATIVE_INFINITY;
  return { logProbs, refLogProbs, oldLogProbs };
}

describe('KL estimators (golden values)', () => {
  it('evaluate k1, abs, k2, k3 and their derivatives at hand-computed points', () => {
    const x = 0.5;
    expect(klEstimators.get('k1').value(x)).toBe(0.5);
    expect(klEstimators.get('abs').value(-x)).toBe(0.5);
    expect(klEstimators.get('abs').derivative(-x)).toBe(-1);
    expect(klEstimators.get('k2').value(x)).toBe(0.125);
    expect(klEstimators.get('k3').value(x)).toBeCloseTo(0.10653065971263342, 15); // e^-0.5 − 0.5
    expect(klEstimators.get('k3').derivative(x)).toBeCloseTo(1 - Math.exp(-0.5), 15);
    expect(klEstimators.get('low_var_kl')).toBe(klEstimators.get('k3'));
    expect(klEstimators.get('mse')).toBe(klEstimators.get('k2'));
    expect(klEstimators.get('k3+').gradientFrom?.name).toBe('k2');
  });

  it('registries are instances: a fresh one can be extended without touching the default', () => {
    const registry = createKlEstimatorRegistry();
    registry.register('zero', { name: 'zero', description: 'test', value: () => 0, derivative: () => 0 });
    expect(registry.has('zero')).toBe(true);
    expect(klEstimators.has('zero')).toBe(false);
    expect(() => klEstimators.get('k4')).toThrow(expect.objectContaining({ code: 'UNKNOWN_ENTRY' }));
  });
});

describe('klPenalty in the loss', () => {
  it('matches a hand-computed token-mean k3 loss', () => {
    // one row, two tokens: x = 0.5 and x = −1
    const result = klPenalty({
      placement: 'loss',
      coefficient: 0.1,
      logProbs: Float32Array.from([-1, -2]),
      refLogProbs: Float32Array.from([-1.5, -1]),
      mask: Uint8Array.from([1, 1]),
      batchSize: 1,
      sequenceLength: 2,
      estimator: 'k3',
    });
    const k3a = Math.exp(-0.5) + 0.5 - 1;
    const k3b = Math.exp(1) - 1 - 1;
    expect(result.value).toBeCloseTo((0.1 * (k3a + k3b)) / 2, 7);
    expect(result.gradLogProbs[0]).toBeCloseTo((0.1 * (1 - Math.exp(-0.5))) / 2, 7);
    expect(result.gradLogProbs[1]).toBeCloseTo((0.1 * (1 - Math.exp(1))) / 2, 7);
    expect(result.diagnostics.meanKl).toBeCloseTo((k3a + k3b) / 2, 7);
    expect(result.diagnostics.clampedFraction).toBe(0);
  });

  const estimators = ['k1', 'abs', 'k2', 'k3'];
  for (const estimator of estimators) {
    for (const mode of AGGREGATION_MODES) {
      it(`${estimator} / ${mode}: ∂value/∂logProbs matches central finite differences`, () => {
        const { logProbs, refLogProbs } = randomBatch(estimator.length * 31 + mode.length);
        const run = (values: Float64Array) =>
          klPenalty({ placement: 'loss', coefficient: 0.3, logProbs: values, refLogProbs, mask, batchSize: B, sequenceLength: T, estimator, aggregation: { mode: mode as AggregationMode, normConstant: 5 } });
        const result = run(logProbs);
        expect(Number.isFinite(result.value)).toBe(true);
        expectClose(result.gradLogProbs, finiteDifferences(logProbs, (values) => run(values).value));
      });
    }
  }

  for (const estimator of estimators) {
    it(`${estimator} with IS correction (ratio from oldLogProbs): gradient includes ∂r/∂logp`, () => {
      const { logProbs, refLogProbs, oldLogProbs } = randomBatch(99);
      const run = (values: Float64Array) =>
        klPenalty({ placement: 'loss', coefficient: 1, logProbs: values, refLogProbs, oldLogProbs, mask, batchSize: B, sequenceLength: T, estimator });
      expectClose(run(logProbs).gradLogProbs, finiteDifferences(logProbs, (values) => run(values).value));
    });
  }

  it('IS-corrected k3 has the unbiased reverse-KL gradient r·x per token', () => {
    const { logProbs, refLogProbs, oldLogProbs } = randomBatch(5);
    const result = klPenalty({ placement: 'loss', coefficient: 1, logProbs, refLogProbs, oldLogProbs, mask, batchSize: B, sequenceLength: T, estimator: 'k3', aggregation: { mode: 'seq-mean-token-sum' } });
    for (let index = 0; index < B * T; index++) {
      if (mask[index] === 0) continue;
      const x = (logProbs[index] as number) - (refLogProbs[index] as number);
      const r = Math.exp((logProbs[index] as number) - (oldLogProbs[index] as number));
      // seq-mean-token-sum over the 3 non-empty rows weighs each token by 1/3
      expect(result.gradLogProbs[index]).toBeCloseTo((r * x) / 3, 5);
    }
  });

  it('an overflowing IS ratio is clamped in log space (±20), counted, and its ∂r term dropped', () => {
    const result = klPenalty({
      placement: 'loss', coefficient: 1, estimator: 'k2',
      logProbs: Float32Array.from([-0.5, -1]), refLogProbs: Float32Array.from([-1, -1]), oldLogProbs: Float32Array.from([-100.5, -1]),
      mask: Uint8Array.from([1, 1]), batchSize: 1, sequenceLength: 2, aggregation: { mode: 'seq-mean-token-sum' },
    });
    // token 0: log r = 100 → clamped to 20; value e^20·0.125, gradient e^20·x only
    expect(result.value).toBeCloseTo(Math.exp(20) * 0.125, -1);
    expect(result.gradLogProbs[0]).toBeCloseTo(Math.exp(20) * 0.5, -2);
    expect(result.diagnostics.clampedFraction).toBe(0.5);
    expect(result.diagnostics.importanceWeight.max).toBeCloseTo(Math.exp(20), -1);
    expect(result.diagnostics.importanceWeight.min).toBe(1);
  });

  it('constant importance weights scale value and gradient without a ratio term', () => {
    const { logProbs, refLogProbs } = randomBatch(6);
    const importanceWeights = Float64Array.from({ length: B * T }, (_, index) => 0.5 + index / 10);
    const run = (values: Float64Array) =>
      klPenalty({ placement: 'loss', coefficient: 1, logProbs: values, refLogProbs, importanceWeights, mask, batchSize: B, sequenceLength: T, estimator: 'k2' });
    expectClose(run(logProbs).gradLogProbs, finiteDifferences(logProbs, (values) => run(values).value));
  });

  it('straight-through k1+ / k3+: the value of kX with the gradient of k2', () => {
    const { logProbs, refLogProbs } = randomBatch(7);
    const base = { placement: 'loss' as const, coefficient: 1, refLogProbs, mask, batchSize: B, sequenceLength: T };
    for (const name of ['k1', 'k3']) {
      const plus = klPenalty({ ...base, logProbs, estimator: `${name}+` });
      expect(plus.value).toBe(klPenalty({ ...base, logProbs, estimator: name }).value);
      const k2Gradient = finiteDifferences(logProbs, (values) => klPenalty({ ...base, logProbs: values, estimator: 'k2' }).value);
      expectClose(plus.gradLogProbs, k2Gradient);
    }
  });

  it('k3 clamps −x at ±20 and the value at ±10 (verl), with zero gradient and a clamped-token fraction', () => {
    const result = klPenalty({
      placement: 'loss',
      coefficient: 1,
      logProbs: Float32Array.from([-0.1, -30, -1]),
      refLogProbs: Float32Array.from([-30, -0.1, -1.2]),
      mask: Uint8Array.from([1, 1, 1]),
      batchSize: 1,
      sequenceLength: 3,
      estimator: 'k3',
      aggregation: { mode: 'seq-mean-token-sum' },
    });
    expect(result.perTokenKl[0]).toBe(10);
    expect(result.perTokenKl[1]).toBe(10);
    expect(result.gradLogProbs[0]).toBe(0);
    expect(result.gradLogProbs[1]).toBe(0);
    expect(result.gradLogProbs[2]).toBeCloseTo(1 - Math.exp(-0.2), 6);
    expect(result.diagnostics.clampedFraction).toBeCloseTo(2 / 3, 12);
    // TRL's unclamped k3 on request: exp(29.9) stays finite in float64
    const unclamped = klPenalty({
      placement: 'loss', coefficient: 1, logProbs: Float32Array.from([-30]), refLogProbs: Float32Array.from([-0.1]),
      mask: Uint8Array.from([1]), batchSize: 1, sequenceLength: 1, logRatioClamp: null, valueClamp: null,
    });
    expect(unclamped.value).toBeGreaterThan(1e12);
    expect(Number.isFinite(unclamped.value)).toBe(true);
  });

  for (const mode of ['token-mean', 'seq-mean-token-mean', 'seq-mean-token-sum-norm'] as const) {
    it(`${mode}: two micro-batches with global counts sum to the full batch exactly (§3.2 item 7)`, () => {
      const { logProbs, refLogProbs } = randomBatch(21);
      const tokenCount = mask.reduce((sum, value) => sum + value, 0);
      const aggregation = { mode, globalTokenCount: tokenCount, globalSequenceCount: 3, normConstant: T };
      const full = klPenalty({ placement: 'loss', coefficient: 0.2, logProbs, refLogProbs, mask, batchSize: B, sequenceLength: T, aggregation });
      const part = (rows: [number, number]) => {
        const [from, to] = [rows[0] * T, rows[1] * T];
        return klPenalty({
          placement: 'loss', coefficient: 0.2, logProbs: logProbs.subarray(from, to), refLogProbs: refLogProbs.subarray(from, to),
          mask: mask.subarray(from, to), batchSize: rows[1] - rows[0], sequenceLength: T, aggregation,
        });
      };
      const first = part([0, 2]);
      const second = part([2, 3]);
      expect(first.value + second.value).toBeCloseTo(full.value, 12);
      expect([...first.gradLogProbs, ...second.gradLogProbs]).toEqual([...full.gradLogProbs]);
    });
  }

  it('an empty batch gives 0, not NaN; −inf on masked-out positions is never read', () => {
    const empty = klPenalty({
      placement: 'loss', coefficient: 1, logProbs: Float32Array.from([Number.NEGATIVE_INFINITY, Number.NaN]),
      refLogProbs: Float32Array.from([-1, -1]), mask: Uint8Array.from([0, 0]), batchSize: 1, sequenceLength: 2,
    });
    expect(empty.value).toBe(0);
    expect([...empty.gradLogProbs]).toEqual([0, 0]);
    expect(empty.diagnostics).toMatchObject({ meanKl: 0, sequenceMeanKl: 0, clampedFraction: 0, tokenCount: 0 });
  });

  it('rejects masked-in −inf / NaN, shape mismatches, bad coefficients and unknown names with codes', () => {
    const base = { placement: 'loss' as const, coefficient: 1, refLogProbs: Float32Array.from([-1, -1]), mask: Uint8Array.from([1, 1]), batchSize: 1, sequenceLength: 2 };
    expect(() => klPenalty({ ...base, logProbs: Float32Array.from([Number.NEGATIVE_INFINITY, -1]) })).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
    expect(() => klPenalty({ ...base, logProbs: Float32Array.from([-1, -1]), refLogProbs: Float32Array.from([-1, Number.NaN]) })).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
    expect(() => klPenalty({ ...base, logProbs: Float32Array.from([-1]) })).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    expect(() => klPenalty({ ...base, logProbs: Float32Array.from([-1, -1]), coefficient: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => klPenalty({ ...base, logProbs: Float32Array.from([-1, -1]), estimator: 'k9' })).toThrow(expect.objectContaining({ code: 'UNKNOWN_ENTRY' }));
    expect(() => klPenalty({ ...base, logProbs: Float32Array.from([-1, -1]), valueClamp: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('klPenalty in the reward', () => {
  it('subtracts β·kl per token from rewards placed on the last valid token', () => {
    const result = klPenalty({
      placement: 'reward',
      coefficient: 0.5,
      estimator: 'k1',
      logProbs: Float32Array.from([-1, -2, 0, -1, -1, -1]),
      refLogProbs: Float32Array.from([-1.5, -1, 0, -1, -1.25, -1]),
      mask: Uint8Array.from([1, 1, 0, 1, 1, 0]),
      batchSize: 2,
      sequenceLength: 3,
      rewards: Float32Array.from([1, 0]),
    });
    // row 0: kl = [0.5, −1]; reward 1 on token 1 → [−0.25, 1 + 0.5] ; row 1: kl = [0, 0.25], reward 0 on token 1
    expect([...result.shapedRewards]).toEqual([-0.25, 1.5, 0, 0, -0.125, 0]);
    expect([...result.sequenceKl]).toEqual([-0.5, 0.25]);
    expect(result.diagnostics.sequenceMeanKl).toBeCloseTo((-0.25 + 0.125) / 2, 7);
  });

  it('shapes given token rewards and needs exactly one reward source', () => {
    const base = { placement: 'reward' as const, coefficient: 1, estimator: 'k2', logProbs: Float32Array.from([-1, -1]), refLogProbs: Float32Array.from([-2, -1]), mask: Uint8Array.from([1, 1]), batchSize: 1, sequenceLength: 2 };
    expect([...klPenalty({ ...base, tokenRewards: Float32Array.from([0, 1]) }).shapedRewards]).toEqual([-0.5, 1]);
    expect(() => klPenalty(base)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => klPenalty({ ...base, rewards: Float32Array.from([Number.NaN]) })).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
  });
});

describe('KL controllers', () => {
  it('fixed keeps β; adaptive follows Ziegler et al. with the ±0.2 error clip', () => {
    const fixed = createFixedKlController(0.01);
    expect(fixed.update({ currentKl: 5, steps: 100 })).toBe(0.01);
    const adaptive = createAdaptiveKlController({ initialCoefficient: 0.1, targetKl: 0.1, horizon: 10_000 });
    expect(adaptive.update({ currentKl: 0.2, steps: 256 })).toBeCloseTo(0.1 * (1 + (0.2 * 256) / 10_000), 15);
    const before = adaptive.coefficient;
    expect(adaptive.update({ currentKl: 0.05, steps: 256 })).toBeCloseTo(before * (1 - (0.2 * 256) / 10_000), 15);
    expect(adaptive.update({ currentKl: 0.1, steps: 256 })).toBeCloseTo(before * (1 - (0.2 * 256) / 10_000), 15);
    expect(createAdaptiveKlController({ initialCoefficient: 1, targetKl: 1, horizon: 1 }).update({ currentKl: 0, steps: 10 })).toBe(0);
  });

  it('reject bad settings and NaN observations with INVALID_ARGUMENT', () => {
    expect(() => createAdaptiveKlController({ initialCoefficient: 0.1, targetKl: 0, horizon: 10 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => createFixedKlController(Number.NaN)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const adaptive = createAdaptiveKlController({ initialCoefficient: 0.1, targetKl: 0.1, horizon: 10 });
    expect(() => adaptive.update({ currentKl: Number.NaN, steps: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
