import { describe, expect, it } from 'vitest';
import { errorCodeOf } from '../batch/testing/expect-aipo-error';
import { entropyQuantileMask } from './entropy-quantile-mask';
import { maskNonFiniteLogProbs } from './mask-non-finite-log-probs';
import { offPolicySequenceMask } from './off-policy-sequence-mask';
import { overlongPenalty } from './overlong-penalty';
import { truncationMask } from './truncation-mask';

describe('maskNonFiniteLogProbs', () => {
  it('drops masked-in positions where any array holds -inf or NaN, before any arithmetic', () => {
    const current = Float32Array.from([-1, Number.NEGATIVE_INFINITY, -1, -1]);
    const old = Float32Array.from([-1, -1, Number.NaN, Number.NaN]);
    const result = maskNonFiniteLogProbs({
      batchSize: 2,
      sequenceLength: 2,
      lossMask: Uint8Array.from([1, 1, 1, 0]),
      logProbs: [current, old],
    });
    expect(Array.from(result.mask)).toEqual([1, 0, 0, 0]);
    expect(result.maskedCount).toBe(2);
  });
});

describe('truncationMask', () => {
  it('zeroes every token of truncated completions', () => {
    const result = truncationMask({
      batchSize: 3,
      sequenceLength: 2,
      lossMask: new Uint8Array(6).fill(1),
      truncated: Uint8Array.from([0, 1, 0]),
    });
    expect(Array.from(result.mask)).toEqual([1, 1, 0, 0, 1, 1]);
    expect(result.truncatedCount).toBe(1);
    expect(
      errorCodeOf(() =>
        truncationMask({ batchSize: 3, sequenceLength: 2, lossMask: new Uint8Array(6), truncated: new Uint8Array(2) }),
      ),
    ).toBe('SHAPE_MISMATCH');
  });
});

describe('overlongPenalty (DAPO)', () => {
  it('is 0 before the buffer, linear inside it, capped at -factor beyond Lmax', () => {
    const result = overlongPenalty({
      rewards: Float32Array.from([1, 1, 1, 1, Number.NaN]),
      lengths: [100, 300, 350, 500, 350],
      maxLength: 400,
      bufferLength: 100,
      penaltyFactor: 1,
    });
    // Lmax - Lbuf = 300: lengths 300 -> 0, 350 -> -0.5, 500 -> -2 capped at -1
    expect(Array.from(result.rewards.subarray(0, 4))).toEqual([1, 1, 0.5, 0]);
    expect(Number.isNaN(result.rewards[4])).toBe(true);
    expect(result.penalizedCount).toBe(3);
    const uncapped = overlongPenalty({
      rewards: Float32Array.from([1]),
      lengths: [500],
      maxLength: 400,
      bufferLength: 100,
      capAtFactor: false,
    });
    expect(uncapped.rewards[0]).toBe(-1);
    expect(
      errorCodeOf(() =>
        overlongPenalty({ rewards: Float32Array.from([1]), lengths: [1], maxLength: 10, bufferLength: 20 }),
      ),
    ).toBe('INVALID_ARGUMENT');
  });
});

describe('entropyQuantileMask', () => {
  const entropies = Float32Array.from([0.1, 0.9, 0.5, 0.3, 99, 0.7]);
  const lossMask = Uint8Array.from([1, 1, 1, 1, 0, 1]);
  it('keeps tokens at or above the (1 - keepFraction) quantile of masked-in entropies', () => {
    // valid sorted: 0.1 0.3 0.5 0.7 0.9; keep 40%: quantile 0.6 at position 2.4 -> 0.5 + 0.4*0.2 = 0.58
    const result = entropyQuantileMask({ batchSize: 2, sequenceLength: 3, entropies, lossMask, keepFraction: 0.4 });
    expect(result.threshold).toBeCloseTo(0.58, 6);
    expect(Array.from(result.mask)).toEqual([0, 1, 0, 0, 0, 1]);
    expect(result.keptCount).toBe(2);
  });
  it('keepFraction 1 keeps every valid token; a global threshold overrides the local quantile', () => {
    expect(
      Array.from(entropyQuantileMask({ batchSize: 2, sequenceLength: 3, entropies, lossMask, keepFraction: 1 }).mask),
    ).toEqual([1, 1, 1, 1, 0, 1]);
    expect(
      Array.from(
        entropyQuantileMask({ batchSize: 2, sequenceLength: 3, entropies, lossMask, keepFraction: 0.5, threshold: 0.3 })
          .mask,
      ),
    ).toEqual([0, 1, 1, 1, 0, 1]);
  });
  it('no valid tokens gives an all-false mask; bad fractions are INVALID_ARGUMENT', () => {
    const empty = entropyQuantileMask({
      batchSize: 2,
      sequenceLength: 3,
      entropies,
      lossMask: new Uint8Array(6),
      keepFraction: 0.2,
    });
    expect(Array.from(empty.mask)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(
      errorCodeOf(() => entropyQuantileMask({ batchSize: 2, sequenceLength: 3, entropies, lossMask, keepFraction: 0 })),
    ).toBe('INVALID_ARGUMENT');
    const nan = Float32Array.from(entropies);
    nan[0] = Number.NaN;
    expect(
      errorCodeOf(() =>
        entropyQuantileMask({ batchSize: 2, sequenceLength: 3, entropies: nan, lossMask, keepFraction: 0.2 }),
      ),
    ).toBe('NON_FINITE_INPUT');
  });
});

describe('offPolicySequenceMask (DeepSeek-V3.2)', () => {
  it('drops only negative-advantage sequences whose mean drift lp_roll - lp exceeds delta', () => {
    const logProbs = Float32Array.from([-2, -2, -2, -2, -1, -1]);
    const rolloutLogProbs = Float32Array.from([-1, -1, -1, -1, -1, -1]);
    const result = offPolicySequenceMask({
      batchSize: 3,
      sequenceLength: 2,
      logProbs,
      rolloutLogProbs,
      sequenceAdvantages: Float32Array.from([-1, 1, -1]),
      lossMask: new Uint8Array(6).fill(1),
      threshold: 0.5,
    });
    // row 0: drift 1 > 0.5 and A < 0 -> dropped; row 1: A >= 0 -> kept; row 2: drift 0 -> kept
    expect(Array.from(result.mask)).toEqual([0, 0, 1, 1, 1, 1]);
    expect(result.maskedSequenceCount).toBe(1);
  });
});
