import { AipoError } from '../errors/aipo-error';
import { defaultAnswerKey, type AnswerKey } from './answer-key';
import { assertPositiveInteger } from './bootstrap-statistics';
import { encodeVotes, type VotedSample } from './majority-vote';

export interface ConsensusAtKOptions<A> {
  /** every graded sample of one problem, in generation order (the order breaks ties) */
  samples: readonly VotedSample<A>[];
  /** votes per subset (k <= n) */
  k: number;
  /** answer identity; see `defaultAnswerKey` */
  key?: AnswerKey<A>;
}

/**
 * cons@k as NeMo-RL defines it (evals/eval.py `eval_cons_k`): the average, over all C(n, k)
 * k-subsets of the n samples (without replacement), of the score of the subset's plurality
 * answer. A subset keeps generation order, so a tie goes to the answer generated first, and the
 * vote's score is that of the winner's first voter; abstentions never win (an all-abstain subset
 * scores 0).
 *
 * Exact without enumerating subsets (NeMo's enumeration is O(C(n,k)), 1.8e18 subsets at n = 64,
 * k = 32). Split the subsets by the winner's first voter j and its vote count c. Such a subset
 * holds j, none of j's answer class before j, c − 1 of that class after j, any abstainers, and for
 * every other class b either fewer than c votes (C(n_b, t) ways for t < c) or exactly c votes all
 * after j (C(after_b(j), c) ways, so b's first vote comes later and loses the tie). Multiplying
 * those per-class polynomials and reading the coefficient of x^{k−c} counts the subsets:
 * O(n·k·D·k²) for D distinct answers, with counts as float64 ratios to C(n, k).
 */
export function consensusAtK<A>(options: ConsensusAtKOptions<A>): number {
  const { samples, k, key = defaultAnswerKey } = options;
  const n = samples.length;
  assertPositiveInteger('k', k);
  if (k > n) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `cons@k needs k <= n (k=${k}, n=${n})`, details: { k, n } });
  }
  const { ids, scores, distinct } = encodeVotes(samples, key);
  const classSize = new Int32Array(distinct);
  let abstainers = 0;
  for (const id of ids) {
    if (id < 0) abstainers++;
    else classSize[id] = (classSize[id] as number) + 1;
  }
  const binomialRow = (size: number): Float64Array => binomials(size, k);
  const classBinomials = Array.from(classSize, binomialRow);
  const abstainBinomials = binomialRow(abstainers);
  const seen = new Int32Array(distinct); // members of each class at indices <= j
  const polynomial = new Float64Array(k + 1);
  const next = new Float64Array(k + 1);
  let total = 0;
  for (let j = 0; j < n; j++) {
    const winner = ids[j] as number;
    if (winner < 0) continue;
    seen[winner] = (seen[winner] as number) + 1;
    if (scores[j] === 0) continue; // contributes 0 whatever the count
    const winnerAfter = (classSize[winner] as number) - (seen[winner] as number);
    let ways = 0;
    for (let c = 1; c <= Math.min(k, winnerAfter + 1); c++) {
      const rest = k - c;
      // abstainers: any t of them
      polynomial.fill(0);
      for (let t = 0; t <= rest; t++) polynomial[t] = abstainBinomials[t] as number;
      for (let b = 0; b < distinct; b++) {
        if (b === winner) continue;
        // ids[j] is the winner, so seen[b] counts b's samples strictly before j
        const after = (classSize[b] as number) - (seen[b] as number);
        multiplyClass({ polynomial, next, rest, c, sizeBinomials: classBinomials[b] as Float64Array, tiedWays: binomial(after, c) });
      }
      ways += binomial(winnerAfter, c - 1) * (polynomial[rest] as number);
    }
    total += (scores[j] as number) * ways;
  }
  return total / binomial(n, k);
}

/** polynomial ← polynomial · (Σ_{t<c} C(n_b, t) x^t + tiedWays·x^c), truncated to degree `rest`. */
function multiplyClass(options: { polynomial: Float64Array; next: Float64Array; rest: number; c: number; sizeBinomials: Float64Array; tiedWays: number }): void {
  const { polynomial, next, rest, c, sizeBinomials, tiedWays } = options;
  next.fill(0, 0, rest + 1);
  for (let degree = 0; degree <= rest; degree++) {
    const coefficient = polynomial[degree] as number;
    if (coefficient === 0) continue;
    for (let t = 0; t < c && degree + t <= rest; t++) next[degree + t] = (next[degree + t] as number) + coefficient * (sizeBinomials[t] ?? 0);
    if (degree + c <= rest) next[degree + c] = (next[degree + c] as number) + coefficient * tiedWays;
  }
  polynomial.set(next.subarray(0, rest + 1));
}

/** C(size, t) for t = 0..limit as float64 (0 past size). */
function binomials(size: number, limit: number): Float64Array {
  const row = new Float64Array(limit + 1);
  row[0] = 1;
  for (let t = 1; t <= Math.min(size, limit); t++) row[t] = ((row[t - 1] as number) * (size - t + 1)) / t;
  return row;
}

function binomial(size: number, t: number): number {
  if (t < 0 || t > size) return 0;
  let result = 1;
  const small = Math.min(t, size - t);
  for (let i = 1; i <= small; i++) result = (result * (size - small + i)) / i;
  return result;
}
