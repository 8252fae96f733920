import { describe, expect, it } from 'vitest';
import { bestAtK, bootstrapInterval, createRng, meanAtN, normal, wilsonInterval, worstAtK } from '../index';

describe('wilsonInterval', () => {
  it('matches the known 95% interval for 8/10 (R prop.test(8, 10, correct = FALSE): 0.4902–0.9433)', () => {
    const eight = wilsonInterval(8, 10);
    expect(eight.low).toBeCloseTo(0.4902, 4);
    expect(eight.high).toBeCloseTo(0.9433, 4);
    expect(eight.estimate).toBe(0.8);
    // at 0 and n successes the bound is z²/(n + z²), not a degenerate point
    expect(wilsonInterval(0, 10).low).toBe(0);
    expect(wilsonInterval(0, 10).high).toBeCloseTo(3.8416 / 13.8416, 10);
    expect(wilsonInterval(10, 10).low).toBeCloseTo(1 - 3.8416 / 13.8416, 10);
    // a wider z gives a wider interval; z = 0 collapses to the estimate
    expect(wilsonInterval(8, 10, 2.576).low).toBeLessThan(eight.low);
    expect(wilsonInterval(3, 10, 0)).toEqual({ low: 0.3, high: 0.3, estimate: 0.3 });
  });

  it('rejects impossible counts with INVALID_ARGUMENT', () => {
    expect(() => wilsonInterval(1, 0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => wilsonInterval(11, 10)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => wilsonInterval(Number.NaN, 10)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('bootstrapInterval', () => {
  it('approaches the normal-theory interval of the mean on a large sample', () => {
    const rng = createRng(2024);
    const values = Array.from({ length: 400 }, () => normal(rng, { mean: 10, std: 2 }));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    const interval = bootstrapInterval(values, { rng, resamples: 4000 });
    expect(interval.estimate).toBeCloseTo(mean, 12);
    const se = sd / Math.sqrt(values.length);
    expect(interval.standardError).toBeCloseTo(se, 2);
    expect(interval.low).toBeCloseTo(mean - 1.96 * se, 1);
    expect(interval.high).toBeCloseTo(mean + 1.96 * se, 1);
  });

  it('gives the exact bootstrap standard error for [0, 1] (√(1/8)) and a point for constant data', () => {
    const interval = bootstrapInterval([0, 1], { rng: createRng(1), resamples: 40_000 });
    expect(interval.standardError).toBeCloseTo(Math.sqrt(1 / 8), 2);
    expect(interval.low).toBe(0);
    expect(interval.high).toBe(1);
    expect(bootstrapInterval([3, 3, 3], { rng: createRng(1), resamples: 50 })).toEqual({ low: 3, high: 3, estimate: 3, standardError: 0 });
  });

  it('bootstraps a custom statistic and is reproducible from the seed', () => {
    const max = (values: Float64Array): number => Math.max(...values);
    const a = bootstrapInterval([1, 2, 3, 4, 5], { rng: createRng(8), resamples: 500, statistic: max, confidence: 0.9 });
    expect(a.estimate).toBe(5);
    expect(a.high).toBe(5);
    expect(a).toEqual(bootstrapInterval([1, 2, 3, 4, 5], { rng: createRng(8), resamples: 500, statistic: max, confidence: 0.9 }));
  });

  it('rejects empty input, NaN values and a bad confidence with codes', () => {
    const rng = createRng(0);
    expect(() => bootstrapInterval([], { rng })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => bootstrapInterval([1, Number.NaN], { rng })).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
    expect(() => bootstrapInterval([1], { rng, confidence: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('bestAtK / worstAtK', () => {
  it('reproduce the with-replacement closed forms (verl PR #7240: 1 of 4 → 0.684)', () => {
    const rng = createRng(42);
    const best = bestAtK({ scores: [1, 0, 0, 0], k: 4, rng, resamples: 20_000 });
    expect(best.mean).toBeCloseTo(1 - 0.75 ** 4, 1.5);
    const p = 1 - 0.75 ** 4;
    expect(best.std).toBeCloseTo(Math.sqrt(p * (1 - p)), 1.5);
    expect(worstAtK({ scores: [1, 1, 1, 0], k: 2, rng, resamples: 20_000 }).mean).toBeCloseTo(0.5625, 1.5);
    expect(bestAtK({ scores: [0.2, 0.7], k: 1, rng, resamples: 20_000 }).mean).toBeCloseTo(0.45, 1.5);
  });

  it('rejects non-finite scores and bad k with codes', () => {
    const rng = createRng(0);
    expect(() => bestAtK({ scores: [1, Number.POSITIVE_INFINITY], k: 1, rng })).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
    expect(() => worstAtK({ scores: [1], k: 0, rng })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => bestAtK({ scores: [], k: 1, rng })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('meanAtN', () => {
  it('averages per problem first, then over problems, with the population std@n', () => {
    const result = meanAtN([[1, 0, 0, 1], Float32Array.from([1, 1])]);
    expect([...result.perProblem]).toEqual([0.5, 1]);
    expect(result.mean).toBe(0.75);
    expect(result.std).toBe(0.25); // (0.5 + 0) / 2
    expect(meanAtN([])).toEqual({ mean: 0, std: 0, perProblem: new Float64Array(0) });
  });

  it('rejects empty problems and NaN scores with codes', () => {
    expect(() => meanAtN([[]])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => meanAtN([[1, Number.NaN]])).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
  });
});
