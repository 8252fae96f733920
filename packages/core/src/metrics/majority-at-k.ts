import type { Rng } from '../random/create-rng';
import { defaultAnswerKey, type AnswerKey } from './answer-key';
import { bootstrapOverDraws, type BootstrapSummary } from './bootstrap-statistics';
import { encodeVotes, votedScore, type VotedSample } from './majority-vote';

export interface MajorityAtKOptions<A> {
  /** every graded sample of one problem */
  samples: readonly VotedSample<A>[];
  /** votes per draw */
  k: number;
  /** seeded randomness for the draws */
  rng: Rng;
  /** bootstrap draws (verl: 1000) */
  resamples?: number;
  /** answer identity; see `defaultAnswerKey` */
  key?: AnswerKey<A>;
}

/**
 * maj@k as verl computes it (metric_utils.py `calc_maj_val` inside `bootstrap_metric`): draw k of
 * the n samples **with replacement**, take the plurality answer (first-seen wins a tie; abstentions
 * never win) and score it with its first voter's score; report mean and std over the draws.
 * For the exact without-replacement average use `consensusAtK`.
 */
export function majorityAtK<A>(options: MajorityAtKOptions<A>): BootstrapSummary {
  const { samples, k, rng, resamples = 1000, key = defaultAnswerKey } = options;
  const { ids, scores, distinct } = encodeVotes(samples, key);
  const counts = new Int32Array(distinct);
  return bootstrapOverDraws({
    n: samples.length,
    k,
    resamples,
    rng,
    statistic: (picks) => votedScore({ picks, ids, scores, counts }),
  });
}
