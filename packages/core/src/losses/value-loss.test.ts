import { describe, expect, it } from 'vitest';
import { AGGREGATION_MODES } from '../aggregation/aggregation-plan';
import { errorCodeOf } from '../batch/testing/expect-aipo-error';
import { createRng } from '../random/create-rng';
import { valueLoss } from './value-loss';

describe('valueLoss', () => {
  it('golden: 0.5*(V-R)^2 unclipped; the clipped branch wins when it is larger', () => {
    const plain = valueLoss({
      batchSize: 1,
      sequenceLength: 2,
      values: Float64Array.from([1, 3]),
      returns: Float64Array.from([0, 1]),
      lossMask: Uint8Array.from([1, 1]),
    });
    expect(plain.value).toBeCloseTo((0.5 + 2) / 2, 12);
    expect(Array.from(plain.gradValues)).toEqual([0.5, 1]);
    // V = 1.5, V_old = 1, c = 0.2: clip(V) = 1.2; R = 2: (1.2-2)^2 = 0.64 > (1.5-2)^2 = 0.25 -> 0.32, no gradient
    const clipped = valueLoss({
      batchSize: 1,
      sequenceLength: 1,
      values: Float64Array.from([1.5]),
      oldValues: Float64Array.from([1]),
      returns: Float64Array.from([2]),
      lossMask: Uint8Array.from([1]),
      clipRange: 0.2,
    });
    expect(clipped.value).toBeCloseTo(0.32, 12);
    expect(clipped.gradValues[0]).toBe(0);
    expect(clipped.diagnostics.clipFraction).toBe(1);
  });
  it('gradient = central finite differences for every aggregation mode', () => {
    const rng = createRng(3);
    const batchSize = 3;
    const sequenceLength = 4;
    const tokens = batchSize * sequenceLength;
    const values = Float64Array.from({ length: tokens }, () => rng.next() * 2);
    const oldValues = Float64Array.from(values, (value) => value + (rng.next() - 0.5) * 0.6);
    const returns = Float64Array.from({ length: tokens }, () => rng.next() * 2);
    const lossMask = Uint8Array.from({ length: tokens }, (_, index) =>
      index % sequenceLength < 1 + index / sequenceLength ? 1 : 0,
    );
    for (const aggregation of AGGREGATION_MODES) {
      const options = { batchSize, sequenceLength, oldValues, returns, lossMask, clipRange: 0.2, aggregation };
      const result = valueLoss({ ...options, values });
      for (let index = 0; index < tokens; index++) {
        const plus = Float64Array.from(values);
        const minus = Float64Array.from(values);
        plus[index] = (plus[index] as number) + 1e-6;
        minus[index] = (minus[index] as number) - 1e-6;
        const numeric =
          (valueLoss({ ...options, values: plus }).value - valueLoss({ ...options, values: minus }).value) / 2e-6;
        expect(Math.abs((result.gradValues[index] as number) - numeric)).toBeLessThan(1e-6);
      }
    }
  });
  it('explained variance is 1 for a perfect critic; bad inputs are typed errors', () => {
    const returns = Float32Array.from([1, 2, 3]);
    expect(
      valueLoss({ batchSize: 1, sequenceLength: 3, values: returns, returns, lossMask: Uint8Array.from([1, 1, 1]) })
        .diagnostics.explainedVariance,
    ).toBe(1);
    expect(
      errorCodeOf(() =>
        valueLoss({
          batchSize: 1,
          sequenceLength: 3,
          values: Float32Array.from([1, Number.NaN, 3]),
          returns,
          lossMask: Uint8Array.from([1, 1, 1]),
        }),
      ),
    ).toBe('NON_FINITE_INPUT');
    expect(
      errorCodeOf(() =>
        valueLoss({
          batchSize: 1,
          sequenceLength: 3,
          values: returns,
          returns,
          lossMask: Uint8Array.from([1, 1, 1]),
          clipRange: 0.2,
        }),
      ),
    ).toBe('INVALID_ARGUMENT');
    expect(
      errorCodeOf(() =>
        valueLoss({ batchSize: 1, sequenceLength: 2, values: returns, returns, lossMask: Uint8Array.from([1, 1]) }),
      ),
    ).toBe('SHAPE_MISMATCH');
  });
});
