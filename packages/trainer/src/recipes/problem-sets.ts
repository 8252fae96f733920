import { createRng } from '@aipo/core';
import type { RecipeProblem } from '../tasks/recipe-problem';
import { type ArithmeticProblem, countAvailableProblems, generateProblems } from '../tasks/arithmetic-task';

/** Training problems by difficulty and a disjoint held-out evaluation set. */
export interface ProblemSets<P extends RecipeProblem = RecipeProblem> {
  /** training problems keyed by difficulty */
  train: Map<number, P[]>;
  /** held-out problems, ascending difficulty */
  evaluation: P[];
}

/**
 * Draw the held-out set first, then training problems that exclude it, all from one seed, so
 * every recipe and every seed of the demo trains and evaluates on well-defined disjoint sets.
 */
export function buildProblemSets(options: {
  seed: number;
  trainDifficulties: readonly number[];
  trainProblemsPerDifficulty: number;
  evalDifficulties: readonly number[];
  evalProblemsPerDifficulty: number;
}): ProblemSets<ArithmeticProblem> {
  const rng = createRng(options.seed);
  const random = () => rng.next();
  const evaluation = [...new Set(options.evalDifficulties)]
    .sort((a, b) => a - b)
    .flatMap((difficulty) => generateProblems({ count: Math.min(options.evalProblemsPerDifficulty, countAvailableProblems({ difficulty }) / 2), difficulty, random }));
  const exclude = new Set(evaluation.map((problem) => problem.id));
  const train = new Map<number, ArithmeticProblem[]>();
  for (const difficulty of [...new Set(options.trainDifficulties)].sort((a, b) => a - b)) {
    // difficulty 1 has only 162 distinct problems: take all that are left when fewer than asked
    const count = Math.min(options.trainProblemsPerDifficulty, countAvailableProblems({ difficulty, exclude }));
    train.set(difficulty, generateProblems({ count, difficulty, random, exclude }));
  }
  return { train, evaluation };
}
