import { AipoError } from '../errors/aipo-error';
import type { Rng } from '../random/create-rng';
import { randomInt } from '../random/sample';
import { defaultAnswerKey, type AnswerKey } from './answer-key';
import { assertPositiveInteger } from './bootstrap-statistics';
import { encodeVotes, votedScore, type VotedSample } from './majority-vote';

export interface ConsensusAtKOptions<A> {
  /** every graded sample of one problem, in generation order (the order breaks ties) */
  samples: readonly VotedSample<A>[];
  /** votes per subset (k <= n) */
  k: number;
  /** answer identity; see `defaultAnswerKey` */
  key?: AnswerKey<A>;
  /** enumerate exactly while C(n, k) is at most this (default 100 000) */
  maxSubsets?: number;
  /** needed only past `maxSubsets`: then `resamples` random k-subsets are averaged instead */
  rng?: Rng;
  /** random subsets when sampling (default 10 000) */
  resamples?: number;
}

export interface ConsensusAtKResult {
  /** mean score of the plurality answer over k-subsets */
  value: number;
  /** true when every one of the C(n, k) subsets was enumerated */
  exact: boolean;
  /** subsets evaluated */
  subsets: number;
}

/**
 * cons@k as NeMo-RL defines it (evals/eval.py `eval_cons_k`): the average, over all C(n, k)
 * k-subsets of the n samples (without replacement), of the score of the subset's plurality answer.
 * Each subset keeps generation order, so a tie goes to the answer generated first. The exact sum
 * costs O(C(n,k)·k), so past `maxSubsets` the caller must pass an `rng` and gets an unbiased
 * Monte-Carlo estimate over uniformly random subsets, flagged `exact: false`.
 */
export function consensusAtK<A>(options: ConsensusAtKOptions<A>): ConsensusAtKResult {
  const { samples, k, key = defaultAnswerKey, maxSubsets = 100_000, rng, resamples = 10_000 } = options;
  const n = samples.length;
  assertPositiveInteger('k', k);
  if (k > n) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `cons@k needs k <= n (k=${k}, n=${n})`, details: { k, n } });
  }
  const { ids, scores, distinct } = encodeVotes(samples, key);
  const counts = new Int32Array(distinct);
  const total = binomial(n, k);
  if (total <= maxSubsets) {
    const picks = Int32Array.from({ length: k }, (_, j) => j);
    let sum = 0;
    for (let subset = 0; subset < total; subset++) {
      sum += votedScore({ picks, ids, scores, counts });
      nextCombination(picks, n);
    }
    return { value: sum / total, exact: true, subsets: total };
  }
  if (rng === undefined) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `cons@k over C(${n}, ${k}) = ${total.toPrecision(3)} subsets exceeds maxSubsets=${maxSubsets}; pass an rng to estimate it by sampling`,
      details: { n, k, maxSubsets },
    });
  }
  assertPositiveInteger('resamples', resamples);
  const pool = Int32Array.from({ length: n }, (_, j) => j);
  const picks = new Int32Array(k);
  let sum = 0;
  for (let r = 0; r < resamples; r++) {
    // Partial Fisher–Yates gives a uniform k-subset; sorting restores generation order for ties.
    for (let j = 0; j < k; j++) {
      const swap = j + randomInt(rng, n - j);
      const held = pool[j] as number;
      pool[j] = pool[swap] as number;
      pool[swap] = held;
    }
    picks.set(pool.subarray(0, k));
    picks.sort();
    sum += votedScore({ picks, ids, scores, counts });
  }
  return { value: sum / resamples, exact: false, subsets: resamples };
}

/** C(n, k) as a float (exact below 2^53, which covers every count we enumerate). */
function binomial(n: number, k: number): number {
  let result = 1;
  const small = Math.min(k, n - k);
  for (let i = 1; i <= small; i++) result = (result * (n - small + i)) / i;
  return Math.round(result);
}

/** Advance a sorted k-combination of [0, n) to the next one in lexicographic order. */
function nextCombination(picks: Int32Array, n: number): void {
  const k = picks.length;
  let i = k - 1;
  while (i >= 0 && picks[i] === n - k + i) i--;
  if (i < 0) return;
  picks[i] = (picks[i] as number) + 1;
  for (let j = i + 1; j < k; j++) picks[j] = (picks[j - 1] as number) + 1;
}
