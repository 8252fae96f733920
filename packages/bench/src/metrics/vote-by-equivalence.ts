import { compareMathAnswers } from '@aipo/graders';
import type { SampleVerdict } from '../run/sample-verdict';
import { type AnswerEquivalence, clusterAnswers, mathAnswerKey } from './cluster-answers';

/** How a benchmark's answers are grouped for maj@k: a cheap canonical key plus a real equivalence check. */
export interface AnswerVoting {
  /** equal keys are one answer without calling `equivalent` */
  canonicalKey?: (answer: string) => string;
  /** the check between cluster representatives */
  equivalent: AnswerEquivalence;
  /** `equivalent` calls allowed per problem (default 256) */
  maxComparisonsPerProblem?: number;
}

/**
 * Math answers vote by the math grader's own equivalence (exact numbers in BigInt, then the CAS
 * under its deadline), so maj@k agrees with how pass@k was graded. A CAS timeout counts as "not
 * equivalent", so on a machine too slow for the deadline two forms may vote apart.
 */
export const mathAnswerVoting: AnswerVoting = {
  canonicalKey: mathAnswerKey,
  equivalent: async (representative, candidate) => (await compareMathAnswers(representative, candidate)).equal,
};

/**
 * Fill `voteFor` of every graded verdict with its answer's cluster representative within its
 * problem (clusters formed in sample-index order), for `summarizeRun`'s maj@k. Returns new verdicts
 * in the same order.
 */
export async function voteByEquivalence({ verdicts, voting }: { verdicts: readonly SampleVerdict[]; voting: AnswerVoting }): Promise<SampleVerdict[]> {
  const byItem = new Map<string, number[]>();
  verdicts.forEach((verdict, index) => {
    if (verdict.status !== 'ok' || verdict.answer === undefined) return;
    const list = byItem.get(verdict.itemId) ?? [];
    list.push(index);
    byItem.set(verdict.itemId, list);
  });
  const result = verdicts.slice();
  for (const indices of byItem.values()) {
    indices.sort((left, right) => (verdicts[left] as SampleVerdict).sampleIndex - (verdicts[right] as SampleVerdict).sampleIndex);
    const representatives = await clusterAnswers({
      answers: indices.map((index) => (verdicts[index] as SampleVerdict).answer),
      equivalent: voting.equivalent,
      ...(voting.canonicalKey === undefined ? {} : { canonicalKey: voting.canonicalKey }),
      ...(voting.maxComparisonsPerProblem === undefined ? {} : { maxComparisons: voting.maxComparisonsPerProblem }),
    });
    indices.forEach((index, position) => {
      const voteFor = representatives[position];
      if (voteFor !== undefined) result[index] = { ...(verdicts[index] as SampleVerdict), voteFor };
    });
  }
  return result;
}
