import { AipoError } from '../errors/aipo-error';
import { assertFiniteScores } from './bootstrap-statistics';

export interface MeanAtNResult {
  /** mean@n: per-problem mean score, averaged over problems (an unbiased pass@1 for 0/1 scores) */
  mean: number;
  /** std@n: per-problem population std (verl `std@N`, numpy ddof=0), averaged over problems */
  std: number;
  /** the per-problem means, in input order */
  perProblem: Float64Array;
}

/**
 * mean@n / avg@k (verl `mean@N`, prime-rl `avg@k`): average the n sample scores within each
 * problem, then over problems, so problems with more samples do not weigh more.
 */
export function meanAtN(scoresPerProblem: readonly ArrayLike<number>[]): MeanAtNResult {
  const perProblem = new Float64Array(scoresPerProblem.length);
  let meanSum = 0;
  let stdSum = 0;
  scoresPerProblem.forEach((scores, problem) => {
    if (scores.length === 0) {
      throw new AipoError({ code: 'INVALID_ARGUMENT', message: `problem ${problem} has no samples`, details: { problem } });
    }
    assertFiniteScores(scores);
    let sum = 0;
    for (let i = 0; i < scores.length; i++) sum += scores[i] as number;
    const mean = sum / scores.length;
    let squares = 0;
    for (let i = 0; i < scores.length; i++) squares += ((scores[i] as number) - mean) ** 2;
    perProblem[problem] = mean;
    meanSum += mean;
    stdSum += Math.sqrt(squares / scores.length);
  });
  const problems = scoresPerProblem.length;
  return { mean: problems === 0 ? 0 : meanSum / problems, std: problems === 0 ? 0 : stdSum / problems, perProblem };
}
