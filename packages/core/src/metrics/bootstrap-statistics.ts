import { AipoError } from '../errors/aipo-error';
import type { Rng } from '../random/create-rng';
import { randomInt } from '../random/sample';

/** Mean and population std of a list of bootstrap statistics (verl reports both, numpy ddof=0). */
export interface BootstrapSummary {
  /** mean of the statistic over resamples */
  mean: number;
  /** population standard deviation of the statistic over resamples */
  std: number;
}

/**
 * Draw `resamples` sets of `k` indices from [0, n) **with replacement** and summarise
 * `statistic(picks)`. This is verl's `bootstrap_metric` (metric_utils.py) for best@k, worst@k and
 * maj@k; the scratch `picks` array is reused, so the statistic must not keep it.
 */
export function bootstrapOverDraws(options: {
  n: number;
  k: number;
  resamples: number;
  rng: Rng;
  statistic: (picks: Int32Array) => number;
}): BootstrapSummary {
  const { n, k, resamples, rng, statistic } = options;
  assertPositiveInteger('k', k);
  assertPositiveInteger('resamples', resamples);
  if (n < 1) throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'bootstrap needs at least one sample' });
  const picks = new Int32Array(k);
  let sum = 0;
  let sumSquares = 0;
  for (let r = 0; r < resamples; r++) {
    for (let j = 0; j < k; j++) picks[j] = randomInt(rng, n);
    const value = statistic(picks);
    sum += value;
    sumSquares += value * value;
  }
  const mean = sum / resamples;
  return { mean, std: Math.sqrt(Math.max(0, sumSquares / resamples - mean * mean)) };
}

export function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `${name} must be a positive integer (got ${value})`, details: { [name]: value } });
  }
}

export function assertFiniteScores(scores: ArrayLike<number>): void {
  for (let index = 0; index < scores.length; index++) {
    if (!Number.isFinite(scores[index])) {
      throw new AipoError({
        code: 'NON_FINITE_INPUT',
        message: `score ${index} is ${scores[index]}; metrics need finite scores (drop or grade unscorable samples first)`,
        details: { index },
      });
    }
  }
}
