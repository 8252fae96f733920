import { AipoError } from '../errors/aipo-error';

export interface Interval {
  /** lower bound */
  low: number;
  /** upper bound */
  high: number;
  /** the point estimate the interval is built around */
  estimate: number;
}

/**
 * Wilson score interval for a binomial proportion (Wilson 1927; Agresti & Coull 1998): unlike the
 * normal (Wald) interval it stays inside [0, 1] and does not collapse to a point at 0 or n
 * successes, which matters for pass rates on small benchmarks such as AIME's 30 problems.
 * `z` is the standard-normal quantile (1.96 for 95%). `estimate` is the plain proportion s/n.
 */
export function wilsonInterval(successes: number, n: number, z = 1.96): Interval {
  if (!Number.isFinite(n) || n <= 0 || !Number.isFinite(successes) || successes < 0 || successes > n || !Number.isFinite(z) || z < 0) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `wilsonInterval needs n > 0, 0 <= successes <= n and z >= 0 (got successes=${successes}, n=${n}, z=${z})`,
      details: { successes, n, z },
    });
  }
  const p = successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { low: Math.max(0, center - half), high: Math.min(1, center + half), estimate: p };
}
