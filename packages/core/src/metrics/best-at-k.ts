import type { Rng } from '../random/create-rng';
import { assertFiniteScores, bootstrapOverDraws, type BootstrapSummary } from './bootstrap-statistics';

export interface BestAtKOptions {
  /** the n scores of one problem's samples */
  scores: ArrayLike<number>;
  /** draws per resample */
  k: number;
  /** seeded randomness for the draws */
  rng: Rng;
  /** bootstrap draws (verl: 1000) */
  resamples?: number;
}

/**
 * best@k as verl logs it (metric_utils.py `bootstrap_metric` with `np.max`): k draws **with
 * replacement**, the max score, mean and std over resamples. Not pass@k: with replacement it is
 * biased low (1 correct of 4 gives ≈ 0.684 at k = 4, verl PR #7240); use `passAtK` for pass@k.
 */
export function bestAtK(options: BestAtKOptions): BootstrapSummary {
  return extremeAtK(options, 1);
}

/** worst@k: as `bestAtK` with the min; the chance that k draws are all correct, with replacement. */
export function worstAtK(options: BestAtKOptions): BootstrapSummary {
  return extremeAtK(options, -1);
}

function extremeAtK(options: BestAtKOptions, sign: 1 | -1): BootstrapSummary {
  const { scores, k, rng, resamples = 1000 } = options;
  assertFiniteScores(scores);
  return bootstrapOverDraws({
    n: scores.length,
    k,
    resamples,
    rng,
    statistic: (picks) => {
      let extreme = (scores[picks[0] as number] as number) * sign;
      for (let j = 1; j < picks.length; j++) extreme = Math.max(extreme, (scores[picks[j] as number] as number) * sign);
      return extreme * sign;
    },
  });
}
