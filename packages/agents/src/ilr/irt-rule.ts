import { AipoError } from '@aipo/core';

/**
 * ILR's Dynamic Interaction rule (arXiv 2509.26306, algorithms.md §2.2): the IRT probability that
 * participant i answers question q, P(q,i) = 1 / (1 + exp(−1.7·(γ_i − D_q))); below the threshold
 * (0.5) the question is hard for i and the participants cooperate, at or above they compete.
 *
 * Written here because @aipo/core's `src/ilr/` had not landed when this package was written;
 * swap to core's export once it exists (same formula, same defaults).
 */
export const IRT_SCALE = 1.7;

/** Cooperate when the question is hard relative to ability, compete when it is easy. */
export type InteractionMode = 'cooperative' | 'competitive';

export function irtProbability(options: { ability: number; difficulty: number; scale?: number }): number {
  const { ability, difficulty, scale = IRT_SCALE } = options;
  if (!Number.isFinite(ability) || !Number.isFinite(difficulty) || !Number.isFinite(scale)) {
    throw new AipoError({ code: 'NON_FINITE_INPUT', message: `IRT needs finite ability, difficulty and scale (got ${ability}, ${difficulty}, ${scale})` });
  }
  return 1 / (1 + Math.exp(-scale * (ability - difficulty)));
}

/** P(q,i) < threshold → cooperative, else competitive (threshold 0.5 in the paper). */
export function irtInteractionMode(options: { ability: number; difficulty: number; scale?: number; threshold?: number }): InteractionMode {
  return irtProbability(options) < (options.threshold ?? 0.5) ? 'cooperative' : 'competitive';
}

/**
 * Ability γ_i from validation accuracy, as the logit log(a / (1 − a)) with a clamped to
 * [ε, 1 − ε]. The paper's mapping onto the difficulty scale is not published (algorithms.md §2.2,
 * [MISSING]); the logit puts ability on the same log-odds scale as {@link difficultyFromPercentile}.
 */
export function abilityFromAccuracy(accuracy: number, epsilon = 1e-3): number {
  if (!Number.isFinite(accuracy) || accuracy < 0 || accuracy > 1) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `validation accuracy must be in [0, 1] (got ${accuracy})` });
  }
  return logit(Math.min(1 - epsilon, Math.max(epsilon, accuracy)));
}

/**
 * Difficulty D_q from a hardness percentile h in [0, 1] (0 = easiest): the ability at which a
 * model would solve a share 1 − h of the questions, logit(h). A median question has D = 0, so a
 * model with 50 % validation accuracy is indifferent on it.
 */
export function difficultyFromPercentile(percentile: number, epsilon = 1e-3): number {
  if (!Number.isFinite(percentile) || percentile < 0 || percentile > 1) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `difficulty percentile must be in [0, 1] (got ${percentile})` });
  }
  return logit(Math.min(1 - epsilon, Math.max(epsilon, percentile)));
}

function logit(p: number): number {
  return Math.log(p / (1 - p));
}
