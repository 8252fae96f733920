import { describe, expect, it } from 'vitest';
import { expectAipoError } from '../batch/testing/expect-aipo-error';
import { createRng } from '../random/create-rng';
import { aggregateLoss } from './aggregate-loss';
import { AGGREGATION_MODES, type AggregationMode } from './aggregation-plan';

// 2 rows x 3 tokens: row 0 has 3 tokens (1, 2, 3), row 1 has 1 token (4) and two padded positions
const values = Float64Array.from([1, 2, 3, 4, Number.NaN, Number.POSITIVE_INFINITY]);
const mask = Uint8Array.from([1, 1, 1, 1, 0, 0]);
const shape = { batchSize: 2, sequenceLength: 3 };

describe('aggregateLoss golden values', () => {
  const cases: Array<[AggregationMode, Record<string, number>, number]> = [
    ['token-mean', {}, (1 + 2 + 3 + 4) / 4],
    ['seq-mean-token-mean', {}, (6 / 3 + 4 / 1) / 2],
    ['seq-mean-token-sum', {}, (6 + 4) / 2],
    ['seq-mean-token-sum-norm', {}, 10 / (2 * 3)],
    ['seq-mean-token-sum-norm', { normConstant: 8 }, 10 / (2 * 8)],
    // LUSPO with alpha = 1: mean_i(l_i * L_i) with l_i the row mean = (2*3 + 4*1)/2
    ['luspo', {}, (2 * 3 + 4 * 1) / 2],
    // alpha = 2: (2 * 9 + 4 * 1) / 2
    ['luspo', { luspoLengthExponent: 2 }, (2 * 9 + 4 * 1) / 2],
  ];
  for (const [mode, extra, expected] of cases) {
    it(`${mode} ${JSON.stringify(extra)} = ${expected}`, () => {
      const result = aggregateLoss({ values, mask, ...shape, mode, ...extra });
      expect(result.value).toBeCloseTo(expected, 12);
      expect(result.tokenCount).toBe(4);
      expect(result.sequenceCount).toBe(2);
      // masked-out positions get no weight even though they hold NaN and +inf
      expect(Array.from(result.weights.slice(4))).toEqual([0, 0]);
    });
  }
});

function randomBatch(seed: number, batchSize: number, sequenceLength: number) {
  const rng = createRng(seed);
  const next = () => rng.next();
  const tokens = batchSize * sequenceLength;
  const values = new Float64Array(tokens);
  const mask = new Uint8Array(tokens);
  for (let row = 0; row < batchSize; row++) {
    // one row stays empty to exercise the sequence-count rule
    const length = row === 1 ? 0 : 1 + Math.floor(next() * sequenceLength);
    for (let column = 0; column < sequenceLength; column++) {
      const index = row * sequenceLength + column;
      values[index] = next() * 4 - 2;
      mask[index] = column < length ? 1 : 0;
    }
  }
  return { values, mask };
}

describe('aggregateLoss gradient = central finite differences (float64)', () => {
  const batchSize = 4;
  const sequenceLength = 5;
  const { values: base, mask: randomMask } = randomBatch(7, batchSize, sequenceLength);
  for (const mode of AGGREGATION_MODES) {
    it(mode, () => {
      const options = { mask: randomMask, batchSize, sequenceLength, mode, luspoLengthExponent: 1.5, normConstant: 7 };
      const { weights } = aggregateLoss({ ...options, values: base });
      const step = 1e-6;
      for (let index = 0; index < base.length; index++) {
        const plus = Float64Array.from(base);
        const minus = Float64Array.from(base);
        plus[index] = (plus[index] as number) + step;
        minus[index] = (minus[index] as number) - step;
        const numeric =
          (aggregateLoss({ ...options, values: plus }).value - aggregateLoss({ ...options, values: minus }).value) /
          (2 * step);
        expect(weights[index]).toBeCloseTo(numeric, 6);
      }
    });
  }
});

describe('micro-batches with global counts equal the full batch', () => {
  const batchSize = 6;
  const sequenceLength = 7;
  const { values: full, mask: fullMask } = randomBatch(11, batchSize, sequenceLength);
  const split = 2 * sequenceLength; // micro-batch 1 = rows 0..1, micro-batch 2 = rows 2..5
  for (const mode of AGGREGATION_MODES) {
    it(mode, () => {
      const whole = aggregateLoss({ values: full, mask: fullMask, batchSize, sequenceLength, mode, normConstant: 9 });
      const counts = { globalTokenCount: whole.tokenCount, globalSequenceCount: whole.sequenceCount, normConstant: 9 };
      const first = aggregateLoss({
        values: full.subarray(0, split),
        mask: fullMask.subarray(0, split),
        batchSize: 2,
        sequenceLength,
        mode,
        ...counts,
      });
      const second = aggregateLoss({
        values: full.subarray(split),
        mask: fullMask.subarray(split),
        batchSize: 4,
        sequenceLength,
        mode,
        ...counts,
      });
      expect(first.value + second.value).toBeCloseTo(whole.value, 12);
      expect(Array.from(first.weights)).toEqual(Array.from(whole.weights.subarray(0, split)));
      expect(Array.from(second.weights)).toEqual(Array.from(whole.weights.subarray(split)));
      // without the global counts a per-micro-batch mean differs (the bug of TRL #3021)
      if (mode !== 'seq-mean-token-sum-norm') {
        const naive =
          aggregateLoss({
            values: full.subarray(0, split),
            mask: fullMask.subarray(0, split),
            batchSize: 2,
            sequenceLength,
            mode,
          }).value +
          aggregateLoss({
            values: full.subarray(split),
            mask: fullMask.subarray(split),
            batchSize: 4,
            sequenceLength,
            mode,
          }).value;
        expect(Math.abs(naive - whole.value)).toBeGreaterThan(1e-6);
      }
    });
  }
});

describe('aggregateLoss edge cases', () => {
  it('an all-masked batch gives 0 and zero weights, never NaN', () => {
    for (const mode of AGGREGATION_MODES) {
      const result = aggregateLoss({
        values: Float32Array.from([Number.NaN, 1]),
        mask: new Uint8Array(2),
        batchSize: 1,
        sequenceLength: 2,
        mode,
      });
      expect(result.value).toBe(0);
      expect(Array.from(result.weights)).toEqual([0, 0]);
    }
  });
  it('an empty batch (B = 0) gives 0', () => {
    const result = aggregateLoss({
      values: new Float32Array(0),
      mask: new Uint8Array(0),
      batchSize: 0,
      sequenceLength: 4,
      mode: 'seq-mean-token-mean',
    });
    expect(result.value).toBe(0);
  });
  it('rejects NaN at a masked-in position with NON_FINITE_INPUT', () => {
    expectAipoError(
      () =>
        aggregateLoss({
          values: Float32Array.from([1, Number.NaN]),
          mask: Uint8Array.from([1, 1]),
          batchSize: 1,
          sequenceLength: 2,
          mode: 'token-mean',
        }),
      'NON_FINITE_INPUT',
    );
  });
  it('rejects shape mismatches, unknown modes, bad constants and too-small global counts', () => {
    const base = {
      values: new Float32Array(4),
      mask: Uint8Array.from([1, 1, 1, 0]),
      batchSize: 2,
      sequenceLength: 2,
    } as const;
    expectAipoError(() => aggregateLoss({ ...base, batchSize: 3, mode: 'token-mean' }), 'SHAPE_MISMATCH');
    expectAipoError(() => aggregateLoss({ ...base, mode: 'mean' as AggregationMode }), 'INVALID_ARGUMENT');
    expectAipoError(
      () => aggregateLoss({ ...base, mode: 'seq-mean-token-sum-norm', normConstant: 0 }),
      'INVALID_ARGUMENT',
    );
    expectAipoError(() => aggregateLoss({ ...base, mode: 'token-mean', globalTokenCount: 2 }), 'INVALID_ARGUMENT');
    expectAipoError(
      () => aggregateLoss({ ...base, mode: 'seq-mean-token-mean', globalSequenceCount: 1.5 }),
      'INVALID_ARGUMENT',
    );
  });
});
