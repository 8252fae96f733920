import { AipoError } from '../errors/aipo-error';
import type { Rng } from '../random/create-rng';
import { randomInt } from '../random/sample';
import { assertFiniteScores, assertPositiveInteger } from './bootstrap-statistics';
import type { Interval } from './wilson-interval';

export interface BootstrapIntervalOptions {
  /** seeded randomness for the resamples */
  rng: Rng;
  /** resamples (default 2000) */
  resamples?: number;
  /** two-sided confidence level in (0, 1) (default 0.95) */
  confidence?: number;
  /** the statistic to bootstrap (default: the mean) */
  statistic?: (values: Float64Array) => number;
}

export interface BootstrapInterval extends Interval {
  /** std of the statistic over resamples (population std) */
  standardError: number;
}

/**
 * Percentile bootstrap interval (Efron & Tibshirani 1993, ch. 13): resample the values with
 * replacement, recompute the statistic, and take the (1−c)/2 and (1+c)/2 quantiles, interpolated
 * linearly between order statistics as numpy's default `quantile` does. `estimate` is the
 * statistic on the original values.
 */
export function bootstrapInterval(values: ArrayLike<number>, options: BootstrapIntervalOptions): BootstrapInterval {
  const { rng, resamples = 2000, confidence = 0.95, statistic = mean } = options;
  if (values.length === 0) throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'bootstrapInterval needs at least one value' });
  assertFiniteScores(values);
  assertPositiveInteger('resamples', resamples);
  if (!(confidence > 0 && confidence < 1)) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `confidence must lie in (0, 1) (got ${confidence})`, details: { confidence } });
  }
  const original = Float64Array.from(values);
  const n = original.length;
  const draw = new Float64Array(n);
  const statistics = new Float64Array(resamples);
  let sum = 0;
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) draw[i] = original[randomInt(rng, n)] as number;
    const value = statistic(draw);
    statistics[r] = value;
    sum += value;
  }
  statistics.sort();
  const average = sum / resamples;
  let squares = 0;
  for (let r = 0; r < resamples; r++) squares += ((statistics[r] as number) - average) ** 2;
  const tail = (1 - confidence) / 2;
  return {
    low: quantile(statistics, tail),
    high: quantile(statistics, 1 - tail),
    estimate: statistic(original),
    standardError: Math.sqrt(squares / resamples),
  };
}

function mean(values: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] as number;
  return sum / values.length;
}

/** Linear-interpolation quantile of sorted values (numpy `method="linear"`). */
function quantile(sorted: Float64Array, q: number): number {
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  const fraction = position - below;
  return (sorted[below] as number) * (1 - fraction) + (sorted[above] as number) * fraction;
}
