import { AipoError } from '@aipo/core';

/**
 * Put ILR's ability γ_i and difficulty D_q on one log-odds scale for @aipo/core's IRT rule
 * (`irtProbability` / `chooseInteraction`, arXiv 2509.26306, algorithms.md §2.2). The paper's
 * mapping is not published ([MISSING]); these are our choice [I], and @aipo/core's `fitRasch`
 * is the alternative when a correctness matrix is available.
 */

/** Ability from validation accuracy a: logit(a) with a clamped to [ε, 1 − ε]. */
export function abilityFromAccuracy(accuracy: number, epsilon = 1e-3): number {
  if (!Number.isFinite(accuracy) || accuracy < 0 || accuracy > 1) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `validation accuracy must be in [0, 1] (got ${accuracy})`,
    });
  }
  return logit(Math.min(1 - epsilon, Math.max(epsilon, accuracy)));
}

/**
 * Difficulty from a hardness percentile h in [0, 1] (0 = easiest): logit(h), the ability at which
 * a model would solve a share 1 − h of the questions. A median question has D = 0, so a model
 * with 50 % validation accuracy has P = 0.5 on it.
 */
export function difficultyFromPercentile(percentile: number, epsilon = 1e-3): number {
  if (!Number.isFinite(percentile) || percentile < 0 || percentile > 1) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `difficulty percentile must be in [0, 1] (got ${percentile})`,
    });
  }
  return logit(Math.min(1 - epsilon, Math.max(epsilon, percentile)));
}

function logit(p: number): number {
  return Math.log(p / (1 - p));
}
