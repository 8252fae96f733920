import { describe, expect, it } from 'vitest';
import { passAtK, passAtKBatch, passHatK } from '../index';

/** Every k-subset of [0, n), for brute-force checks. */
function* subsets(n: number, k: number, start = 0, prefix: number[] = []): Generator<number[]> {
  if (prefix.length === k) {
    yield prefix;
    return;
  }
  for (let i = start; i < n; i++) yield* subsets(n, k, i + 1, [...prefix, i]);
}

describe('passAtK', () => {
  it('matches brute-force enumeration of all k-subsets for every n <= 10', () => {
    for (let n = 1; n <= 10; n++) {
      for (let c = 0; c <= n; c++) {
        // samples 0..c-1 are correct
        for (let k = 1; k <= n; k++) {
          let any = 0;
          let all = 0;
          let total = 0;
          for (const subset of subsets(n, k)) {
            total++;
            if (subset.some((index) => index < c)) any++;
            if (subset.every((index) => index < c)) all++;
          }
          expect(passAtK(n, c, k)).toBeCloseTo(any / total, 12);
          expect(passHatK(n, c, k)).toBeCloseTo(all / total, 12);
        }
      }
    }
  });

  it('hand-computed values and the documented edge cases', () => {
    expect(passAtK(4, 1, 2)).toBeCloseTo(0.5, 15); // 1 − C(3,2)/C(4,2) = 1 − 3/6
    expect(passAtK(10, 3, 1)).toBeCloseTo(0.3, 15);
    expect(passAtK(5, 0, 5)).toBe(0); // c = 0 is 0 even when n − c < k (human-eval PR #68)
    expect(passAtK(5, 5, 3)).toBe(1);
    expect(passAtK(5, 1, 5)).toBe(1); // k = n with c > 0
    expect(passHatK(4, 2, 2)).toBeCloseTo(1 / 6, 15);
    expect(passHatK(4, 1, 2)).toBe(0);
  });

  it('stays finite and accurate where binomial coefficients overflow (n = 1000)', () => {
    // 1 − C(500,100)/C(1000,100) ≈ 1 − 2^-100·(small factor): indistinguishable from 1 in float64
    expect(passAtK(1000, 500, 100)).toBe(1);
    // 1 − (999/1000) exactly for c = 1, k = 1
    expect(passAtK(1000, 1, 1)).toBeCloseTo(0.001, 15);
    const value = passAtK(1024, 3, 64);
    // 1 − Π_{i=1022}^{1024} (1 − 64/i), computed independently in log space
    let logProduct = 0;
    for (let i = 1022; i <= 1024; i++) logProduct += Math.log1p(-64 / i);
    expect(value).toBeCloseTo(1 - Math.exp(logProduct), 14);
  });

  it('rejects k > n and malformed counts with INVALID_ARGUMENT', () => {
    expect(() => passAtK(4, 1, 5)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => passAtK(4, 5, 1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => passAtK(4, -1, 1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => passAtK(4, 1, 0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => passAtK(4, 1.5, 1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => passAtK(Number.NaN, 1, 1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => passHatK(2, 1, 3)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('passAtKBatch', () => {
  it('averages per-problem estimates, with a shared or per-problem n', () => {
    const shared = passAtKBatch({ samples: 4, correct: [0, 1, 4], k: 2 });
    expect([...shared.perProblem]).toEqual([0, passAtK(4, 1, 2), 1]);
    expect(shared.mean).toBeCloseTo((0 + 0.5 + 1) / 3, 15);
    const varying = passAtKBatch({ samples: [4, 8], correct: Int32Array.from([1, 2]), k: 2, metric: 'pass^k' });
    expect([...varying.perProblem]).toEqual([passHatK(4, 1, 2), passHatK(8, 2, 2)]);
    expect(passAtKBatch({ samples: 4, correct: [], k: 1 }).mean).toBe(0);
  });

  it('reports length mismatches and per-problem errors with codes', () => {
    expect(() => passAtKBatch({ samples: [4, 4], correct: [1], k: 1 })).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    expect(() => passAtKBatch({ samples: 2, correct: [1, 3], k: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
