import { AipoError } from '../errors/aipo-error';

/**
 * Unbiased pass@k (Chen et al. 2021, "Evaluating Large Language Models Trained on Code", §2.1):
 * with n samples of which c are correct, pass@k = 1 − C(n−c, k) / C(n, k).
 *
 * Computed in the product form 1 − Π_{i=n−c+1}^{n} (1 − k/i), which never forms a binomial
 * coefficient (C(n,k) passes 2^53 at n = 64 already). Edge cases (rl-frameworks.md §4):
 * c = 0 gives 0 even when n − c < k (human-eval PR #68 returned 1 there); k > n is undefined and
 * throws (silently returning 1 is wrong, MultiPL-E #40); n − c < k gives exactly 1.
 */
export function passAtK(n: number, c: number, k: number): number {
  assertCounts(n, c, k);
  if (c === 0) return 0;
  if (n - c < k) return 1;
  let product = 1;
  for (let i = n - c + 1; i <= n; i++) product *= 1 - k / i;
  return 1 - product;
}

/**
 * pass^k (τ-bench's reliability metric; prime-rl logs it): the chance that k samples drawn without
 * replacement are *all* correct, C(c, k) / C(n, k) = Π_{i=0}^{k−1} (c − i)/(n − i). 0 when c < k.
 */
export function passHatK(n: number, c: number, k: number): number {
  assertCounts(n, c, k);
  if (c < k) return 0;
  let product = 1;
  for (let i = 0; i < k; i++) product *= (c - i) / (n - i);
  return product;
}

export interface PassAtKBatchOptions {
  /** samples per problem: one number for all problems, or one per problem */
  samples: number | ArrayLike<number>;
  /** correct samples per problem */
  correct: ArrayLike<number>;
  /** the k to evaluate (k <= n for every problem) */
  k: number;
  /** pass^k instead of pass@k */
  metric?: 'pass@k' | 'pass^k';
}

export interface PassAtKBatchResult {
  /** mean over problems (0 for an empty batch) */
  mean: number;
  /** the per-problem estimate, in input order */
  perProblem: Float64Array;
}

/** pass@k (or pass^k) for many problems at once; the mean is the benchmark score. */
export function passAtKBatch(options: PassAtKBatchOptions): PassAtKBatchResult {
  const { samples, correct, k, metric = 'pass@k' } = options;
  if (typeof samples !== 'number' && samples.length !== correct.length) {
    throw new AipoError({
      code: 'SHAPE_MISMATCH',
      message: `samples has ${samples.length} entries but correct has ${correct.length}`,
      details: { samples: samples.length, correct: correct.length },
    });
  }
  const estimate = metric === 'pass^k' ? passHatK : passAtK;
  const perProblem = new Float64Array(correct.length);
  let sum = 0;
  for (let index = 0; index < correct.length; index++) {
    const n = typeof samples === 'number' ? samples : (samples[index] as number);
    const value = estimate(n, correct[index] as number, k);
    perProblem[index] = value;
    sum += value;
  }
  return { mean: correct.length === 0 ? 0 : sum / correct.length, perProblem };
}

function assertCounts(n: number, c: number, k: number): void {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k) || n < 1 || k < 1 || c < 0 || c > n) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `pass@k needs integers n >= 1, 0 <= c <= n, k >= 1 (got n=${n}, c=${c}, k=${k})`,
      details: { n, c, k },
    });
  }
  if (k > n) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `pass@k is undefined for k > n (k=${k}, n=${n}); draw at least k samples per problem`,
      details: { n, c, k },
    });
  }
}
