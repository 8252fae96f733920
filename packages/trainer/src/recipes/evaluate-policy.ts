import { passAtK, type Rng } from '@aipo/core';
import type { RecipeProblem } from '../tasks/recipe-problem';
import { gradeArithmetic } from '../tasks/grade-arithmetic';
import { abortPoint } from './abort-point';
import type { RecipePolicy } from './recipe-policy';

/** pass@k of one difficulty. */
export interface DifficultyEvaluation {
  /** operations per problem */
  difficulty: number;
  /** problems evaluated */
  problems: number;
  /** samples per problem (n) */
  samples: number;
  /** correct samples per problem (c), in problem order */
  correct: number[];
  /** mean unbiased pass@k over problems (Chen et al. 2021), keyed by k */
  passAtK: Record<number, number>;
}

/** The evaluation of one policy, alone (no agents, evaluation prompt). */
export interface PolicyEvaluation {
  /** per difficulty, ascending */
  difficulties: DifficultyEvaluation[];
  /** tokens sampled during evaluation */
  sampledTokens: number;
}

export interface EvaluatePolicyOptions {
  /** the policy, evaluated alone */
  policy: RecipePolicy;
  /** held-out problems (any difficulties) */
  problems: readonly RecipeProblem[];
  /** samples per problem, n */
  samples: number;
  /** k values to report (each ≤ n) */
  k: readonly number[];
  /** sampling temperature */
  temperature: number;
  /** cap on tokens per sample */
  maxTokens: number;
  /** sampling randomness */
  rng: Rng;
  /** rows per sampling batch (memory bound); default 512 */
  batchRows?: number;
  /** cancels between batches */
  signal?: AbortSignal;
  /** called after each batch with (done, total) rows */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Sample n answers per held-out problem with the plain evaluation prompt (interaction off: AIPO
 * and the prototype evaluate without agents, algorithms.md §1.3), grade each with the math grader
 * and report the unbiased pass@k per difficulty.
 */
export async function evaluatePolicy(options: EvaluatePolicyOptions): Promise<PolicyEvaluation> {
  const { policy, problems, samples, k, temperature, maxTokens, rng, batchRows = 512, signal, onProgress } = options;
  const rows = problems.flatMap((problem, index) => Array.from({ length: samples }, () => ({ problem, index })));
  const correct = new Array<number>(problems.length).fill(0);
  let sampledTokens = 0;
  for (let start = 0; start < rows.length; start += batchRows) {
    await abortPoint(signal);
    const batch = rows.slice(start, start + batchRows);
    const outputs = await policy.sample({ contexts: batch.map(({ problem }) => policy.encode(problem.prompt)), maxTokens, temperature, rng });
    for (const [offset, output] of outputs.entries()) {
      const row = batch[offset] as (typeof batch)[number];
      sampledTokens += output.tokenIds.length;
      correct[row.index] = (correct[row.index] ?? 0) + (await gradeArithmetic({ problem: row.problem, output: output.text }));
    }
    onProgress?.(Math.min(rows.length, start + batchRows), rows.length);
  }
  const difficulties = [...new Set(problems.map((problem) => problem.difficulty))].sort((a, b) => a - b);
  return {
    sampledTokens,
    difficulties: difficulties.map((difficulty) => {
      const counts = problems.flatMap((problem, index) => (problem.difficulty === difficulty ? [correct[index] ?? 0] : []));
      const passes: Record<number, number> = {};
      for (const value of k) passes[value] = counts.reduce((sum, c) => sum + passAtK(samples, c, value), 0) / counts.length;
      return { difficulty, problems: counts.length, samples, correct: counts, passAtK: passes };
    }),
  };
}
