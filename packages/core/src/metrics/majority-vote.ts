import { AipoError } from '../errors/aipo-error';
import { defaultAnswerKey, type AnswerKey } from './answer-key';

/** One graded sample: the extracted answer and its score (1/0 correctness, or any reward). */
export interface VotedSample<A> {
  /** the extracted final answer (string or any structured value) */
  answer: A;
  /** the sample's score; the vote's value is the score of the winning answer's first voter */
  score: number;
}

export interface MajorityVoteResult {
  /** the winning key, or undefined when every sample abstained */
  key: string | undefined;
  /** index (into the voting samples) of the winning answer's first voter; -1 when all abstained */
  index: number;
  /** votes the winner received */
  count: number;
}

/**
 * Plurality vote over answers. Ties go to the answer seen first (the lowest index of a first
 * vote), as in verl's maj@k and Python's `Counter.most_common` used by NeMo-RL's cons@k
 * (rl-frameworks.md §3.2 item 12). Abstentions (key `undefined`) never win.
 */
export function majorityVote<A>(answers: readonly A[], key: AnswerKey<A> = defaultAnswerKey): MajorityVoteResult {
  const counts = new Map<string, { count: number; first: number }>();
  answers.forEach((answer, index) => {
    const name = key(answer);
    if (name === undefined) return;
    const entry = counts.get(name);
    if (entry === undefined) counts.set(name, { count: 1, first: index });
    else entry.count++;
  });
  let best: MajorityVoteResult = { key: undefined, index: -1, count: 0 };
  // Map iteration is insertion order = first-seen order, so a strict `>` keeps the first of a tie.
  for (const [name, { count, first }] of counts) {
    if (count > best.count) best = { key: name, index: first, count };
  }
  return best;
}

/** Resolve every sample's key once into a small integer id (−1 = abstain) for the k-sample loops. */
export function encodeVotes<A>(samples: readonly VotedSample<A>[], key: AnswerKey<A>): { ids: Int32Array; scores: Float64Array; distinct: number } {
  const ids = new Int32Array(samples.length);
  const scores = new Float64Array(samples.length);
  const table = new Map<string, number>();
  samples.forEach((sample, index) => {
    if (!Number.isFinite(sample.score)) {
      throw new AipoError({
        code: 'NON_FINITE_INPUT',
        message: `sample ${index} has a non-finite score (${sample.score}); grade or drop it before voting`,
        details: { index },
      });
    }
    scores[index] = sample.score;
    const name = key(sample.answer);
    if (name === undefined) {
      ids[index] = -1;
      return;
    }
    let id = table.get(name);
    if (id === undefined) {
      id = table.size;
      table.set(name, id);
    }
    ids[index] = id;
  });
  return { ids, scores, distinct: table.size };
}

/**
 * Score of the plurality answer among `picks` (sample indices, in draw order), with first-seen
 * tie-breaking; 0 when all picks abstain. `counts` is scratch space of length `distinct`.
 */
export function votedScore(options: { picks: ArrayLike<number>; ids: Int32Array; scores: Float64Array; counts: Int32Array }): number {
  const { picks, ids, scores, counts } = options;
  let max = 0;
  for (let j = 0; j < picks.length; j++) {
    const id = ids[picks[j] as number] as number;
    if (id < 0) continue;
    const count = (counts[id] as number) + 1;
    counts[id] = count;
    if (count > max) max = count;
  }
  let score = 0;
  let found = false;
  for (let j = 0; j < picks.length; j++) {
    const pick = picks[j] as number;
    const id = ids[pick] as number;
    if (id < 0) continue;
    if (!found && counts[id] === max) {
      score = scores[pick] as number;
      found = true;
    }
    counts[id] = 0;
  }
  return score;
}
