import { describe, expect, it } from 'vitest';
import { errorCodeOf } from '../batch/testing/expect-aipo-error';
import { importanceWeights } from './importance-weights';
import { rejectionMask } from './rejection-mask';

const ln = Math.log;
// row 0: three tokens with IS ratios 0.5, 1, 3; row 1: one token with ratio 1.5 and padding holding NaN
const oldLogProbs = Float64Array.from([ln(0.5) - 1, -1, ln(3) - 1, ln(1.5) - 2, Number.NaN, 0]);
const rolloutLogProbs = Float64Array.from([-1, -1, -1, -2, Number.NEGATIVE_INFINITY, 0]);
const lossMask = Uint8Array.from([1, 1, 1, 1, 0, 0]);
const base = { batchSize: 2, sequenceLength: 3, oldLogProbs, rolloutLogProbs, lossMask };

describe('importanceWeights', () => {
  it('token TIS truncates at C = 2 (one-sided)', () => {
    const result = importanceWeights(base);
    expect(Array.from(result.weights)).toEqual([0.5, 1, 2, 1.5, 0, 0].map((value) => Math.fround(value)));
    expect(Array.from(result.keepMask)).toEqual([1, 1, 1, 1, 0, 0]);
    expect(result.diagnostics.max).toBeCloseTo(3, 6);
    expect(result.diagnostics.mean).toBeCloseTo((0.5 + 1 + 3 + 1.5) / 4, 6);
    expect(result.diagnostics.affectedFraction).toBe(0.25);
    // chi^2 = E[w^2] - 1 and ESS = (sum w)^2 / (N sum w^2), on raw weights
    const squares = 0.25 + 1 + 9 + 2.25;
    expect(result.diagnostics.chiSquared).toBeCloseTo(squares / 4 - 1, 6);
    expect(result.diagnostics.effectiveSampleSize).toBeCloseTo(36 / (4 * squares), 6);
  });
  it('token MIS zeroes weights outside [1/C, C] and removes them from keepMask', () => {
    const result = importanceWeights({ ...base, mode: 'mask', upper: 2, lower: 0.6 });
    expect(Array.from(result.weights)).toEqual([0, 1, 0, 1.5, 0, 0]);
    expect(Array.from(result.keepMask)).toEqual([0, 1, 0, 1, 0, 0]);
    expect(result.diagnostics.affectedFraction).toBe(0.5);
  });
  it('sequence TIS: w_i = min(exp(sum log ratio), C) broadcast over the row', () => {
    const result = importanceWeights({ ...base, level: 'sequence', upper: 10 });
    // row 0: 0.5 * 1 * 3 = 1.5; row 1: 1.5
    expect(Array.from(result.weights)).toEqual([1.5, 1.5, 1.5, 1.5, 0, 0]);
    const masked = importanceWeights({ ...base, level: 'sequence', mode: 'mask', upper: 1.4 });
    expect(Array.from(masked.keepMask)).toEqual([0, 0, 0, 0, 0, 0]);
  });
  it('batch normalisation divides by the mean weight of kept tokens', () => {
    const result = importanceWeights({ ...base, batchNormalize: true });
    const mean = (0.5 + 1 + 2 + 1.5) / 4;
    expect(result.weights[0]).toBeCloseTo(0.5 / mean, 6);
    expect(result.weights[2]).toBeCloseTo(2 / mean, 6);
  });
  it('a huge sequence log-ratio is clamped to 20 before exp and reported', () => {
    const old = Float64Array.from({ length: 200 }, () => -1);
    const rollout = Float64Array.from({ length: 200 }, () => -1.5);
    const result = importanceWeights({
      batchSize: 1,
      sequenceLength: 200,
      oldLogProbs: old,
      rolloutLogProbs: rollout,
      lossMask: new Uint8Array(200).fill(1),
      level: 'sequence',
      upper: 1e12,
    });
    expect(result.weights[0]).toBeCloseTo(Math.fround(Math.exp(20)), -3);
    expect(result.diagnostics.clampedFraction).toBe(1);
  });
  it('non-finite masked-in log-probs and bad thresholds are typed errors', () => {
    const bad = Float64Array.from(rolloutLogProbs);
    bad[1] = Number.NEGATIVE_INFINITY;
    expect(errorCodeOf(() => importanceWeights({ ...base, rolloutLogProbs: bad }))).toBe('NON_FINITE_INPUT');
    expect(errorCodeOf(() => importanceWeights({ ...base, upper: -1 }))).toBe('INVALID_ARGUMENT');
    expect(errorCodeOf(() => importanceWeights({ ...base, level: 'batch' as 'token' }))).toBe('INVALID_ARGUMENT');
    expect(errorCodeOf(() => importanceWeights({ ...base, oldLogProbs: new Float32Array(2) }))).toBe('SHAPE_MISMATCH');
  });
  it('an all-masked batch gives zero weights and zero diagnostics', () => {
    const result = importanceWeights({ ...base, lossMask: new Uint8Array(6) });
    expect(Array.from(result.weights)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(result.diagnostics).toEqual({
      mean: 0,
      min: 0,
      max: 0,
      effectiveSampleSize: 0,
      chiSquared: 0,
      affectedFraction: 0,
      clampedFraction: 0,
    });
  });
});

describe('rejectionMask', () => {
  it('token k1 bounds reject individual tokens: k1 = -log rho', () => {
    // k1 per token: -ln 0.5 = 0.69, 0, -ln 3 = -1.10, -ln 1.5 = -0.41
    const result = rejectionMask({ ...base, criteria: [{ statistic: 'k1', level: 'token', lower: -1, upper: 0.5 }] });
    expect(Array.from(result.mask)).toEqual([0, 1, 0, 1, 0, 0]);
    expect(result.rejectedTokenFraction).toBe(0.5);
    expect(result.rejectedSequenceCount).toBe(0);
  });
  it('sequence-level k3 criteria reject whole rows; criteria combine with AND', () => {
    const k3 = (rho: number) => rho - 1 - Math.log(rho);
    const rowMax = Math.max(k3(0.5), k3(1), k3(3));
    const result = rejectionMask({
      ...base,
      criteria: [{ statistic: 'k3', level: 'sequence-max', upper: rowMax - 1e-6 }],
    });
    expect(Array.from(result.mask)).toEqual([0, 0, 0, 1, 0, 0]);
    expect(result.rejectedSequenceCount).toBe(1);
    const mean = rejectionMask({
      ...base,
      criteria: [
        { statistic: 'k2', level: 'sequence-mean', upper: 10 },
        { statistic: 'k1', level: 'sequence-sum', upper: -0.5 },
      ],
    });
    // k1 sums: row 0 = ln 2 - ln 3 = -0.405 (> -0.5, rejected); row 1 = -0.405 too
    expect(Array.from(mean.mask)).toEqual([0, 0, 0, 0, 0, 0]);
  });
  it('rejects unknown statistics and inverted bounds', () => {
    expect(errorCodeOf(() => rejectionMask({ ...base, criteria: [{ statistic: 'k4' as 'k1', level: 'token' }] }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(
      errorCodeOf(() =>
        rejectionMask({ ...base, criteria: [{ statistic: 'k1', level: 'token', lower: 1, upper: 0 }] }),
      ),
    ).toBe('INVALID_ARGUMENT');
    expect(errorCodeOf(() => rejectionMask({ ...base, criteria: [] }))).toBe('INVALID_ARGUMENT');
  });
});
