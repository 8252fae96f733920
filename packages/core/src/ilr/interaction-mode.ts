import { AipoError } from '../errors/aipo-error';
import { assertNumber } from '../batch/assert-finite';
import type { Rng } from '../random/create-rng';

/** The two framings of ILR's Idea3 interaction. */
export type InteractionMode = 'cooperate' | 'compete';

/** The classic 1.7 scaling that makes the logistic curve match the normal ogive (Birnbaum 1968). */
export const IRT_SCALE = 1.7;

/** P(q, i) = 1 / (1 + exp(−scale·(γ_i − D_q))): the chance that a model of ability γ solves a question of difficulty D. */
export function irtProbability(options: { ability: number; difficulty: number; scale?: number }): number {
  const { ability, difficulty, scale = IRT_SCALE } = options;
  assertNumber('ability', ability, () => true, 'a finite number');
  assertNumber('difficulty', difficulty, () => true, 'a finite number');
  assertNumber('scale', scale, (value) => value > 0, 'a positive number');
  const z = scale * (ability - difficulty);
  // Evaluate on the side where exp cannot overflow.
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

export interface ChooseInteractionOptions {
  /** γ_i: the model's ability */
  ability: number;
  /** D_q: the question's difficulty, on the same scale */
  difficulty: number;
  /** cooperate when P < threshold, compete when P >= threshold (default 0.5) */
  threshold?: number;
  /** IRT scale (default 1.7) */
  scale?: number;
  /** ablation override: cooperate with this fixed probability, ignoring the IRT rule (the paper's 0 / 0.5 / 1 runs) */
  cooperationProbability?: number;
  /** needed when `cooperationProbability` is strictly between 0 and 1 */
  rng?: Rng;
}

/**
 * ILR's dynamic interaction rule (arXiv 2509.26306; algorithms.md §2.2): a question that is hard
 * relative to the model (P < 0.5) is solved cooperatively, an easy one competitively.
 * Returns the mode and the IRT probability it was based on (NaN under the fixed-probability override).
 */
export function chooseInteraction(options: ChooseInteractionOptions): { mode: InteractionMode; probability: number } {
  const { threshold = 0.5, cooperationProbability, rng } = options;
  if (cooperationProbability !== undefined) {
    assertNumber('cooperationProbability', cooperationProbability, (value) => value >= 0 && value <= 1, 'a probability in [0, 1]');
    if (cooperationProbability === 0 || cooperationProbability === 1) {
      return { mode: cooperationProbability === 1 ? 'cooperate' : 'compete', probability: Number.NaN };
    }
    if (rng === undefined) {
      throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'a fractional cooperationProbability needs an rng' });
    }
    return { mode: rng.next() < cooperationProbability ? 'cooperate' : 'compete', probability: Number.NaN };
  }
  assertNumber('threshold', threshold, (value) => value >= 0 && value <= 1, 'a probability in [0, 1]');
  const probability = irtProbability(options);
  return { mode: probability < threshold ? 'cooperate' : 'compete', probability };
}
