import { bootstrapInterval, consensusAtK, createRng, meanAtN, passAtKBatch, wilsonInterval } from '@aipo/core';
import type { BenchItem } from '../benchmark';
import type { SampleVerdict } from '../run/sample-verdict';
import { histogram, type Percentiles, percentiles } from './percentiles';

/** A score with its 95% confidence interval. */
export interface ScoreWithInterval {
  value: number;
  low: number;
  high: number;
}

export interface ProblemSummary {
  id: string;
  tags: Record<string, string>;
  /** graded samples (API errors excluded) */
  samples: number;
  correct: number;
  /** API errors for this problem */
  errors: number;
  /** mean score over graded samples; null when none was graded */
  pass1: number | null;
}

export interface GroupSummary extends ScoreWithInterval {
  group: string;
  problems: number;
}

/** Everything `summary.json` holds; reports are rendered from it alone. */
export interface RunSummary {
  benchmark: string;
  model: string;
  /** samples requested per problem */
  n: number;
  problems: { total: number; scored: number; unscored: number };
  samples: { total: number; graded: number; errors: number; errorKinds: Record<string, number>; parseFailed: number; truncated: number };
  /** pass@1 as mean@n over scored problems, with a 95% interval */
  pass1: ScoreWithInterval;
  /** unbiased pass@k (Chen et al. 2021) for k = 1, 2, 4, … up to the smallest graded n */
  passAtK: Array<{ k: number; value: number }>;
  /**
   * maj@k: plurality answer's score over all k-subsets (cons@k, NeMo-RL), averaged over problems.
   * Answers vote by `voteFor` (equivalence class, see `voteByEquivalence`) when set; ties go to the
   * answer sampled first.
   */
  majAtK: Array<{ k: number; value: number }>;
  /** per tag (subject, level, difficulty, platform, ...), per group */
  breakdowns: Record<string, GroupSummary[]>;
  tokens: { completion: Percentiles | null; promptTotal: number; completionTotal: number };
  latencyMs: Percentiles | null;
  /** completion length histogram (tokens when the server reports usage, else characters) */
  lengthHistogram: { unit: 'tokens' | 'characters'; bins: Array<{ start: number; end: number; count: number }> };
  perProblem: ProblemSummary[];
}

function interval(perProblem: Float64Array, binary: boolean, seed: number): ScoreWithInterval {
  if (perProblem.length === 0) return { value: 0, low: 0, high: 0 };
  let sum = 0;
  for (const value of perProblem) sum += value;
  if (binary) {
    // One 0/1 score per problem is a binomial proportion: Wilson stays inside [0, 1] on small sets.
    const { low, high, estimate } = wilsonInterval(sum, perProblem.length);
    return { value: estimate, low, high };
  }
  const { low, high, estimate } = bootstrapInterval(perProblem, { rng: createRng(seed), resamples: 2000 });
  return { value: estimate, low, high };
}

function powersOfTwoUpTo(n: number): number[] {
  const ks: number[] = [];
  for (let k = 1; k <= n; k *= 2) ks.push(k);
  if (ks[ks.length - 1] !== n && n > 0) ks.push(n);
  return ks;
}

/**
 * Aggregate verdicts into scores. API errors never count as wrong answers: they are left out of
 * every score and reported in `samples.errors`; a problem with no graded sample is "unscored".
 */
export function summarizeRun({ benchmark, model, n, items, verdicts, breakdowns, seed = 0 }: {
  benchmark: string;
  model: string;
  n: number;
  items: readonly BenchItem[];
  verdicts: readonly SampleVerdict[];
  breakdowns: readonly string[];
  seed?: number;
}): RunSummary {
  const byItem = new Map<string, SampleVerdict[]>(items.map((item) => [item.id, []]));
  for (const verdict of verdicts) byItem.get(verdict.itemId)?.push(verdict);
  const errorKinds: Record<string, number> = {};
  const perProblem: ProblemSummary[] = [];
  const scored: Array<{ item: BenchItem; graded: SampleVerdict[] }> = [];
  for (const item of items) {
    const all = byItem.get(item.id) ?? [];
    const graded = all.filter((verdict) => verdict.status === 'ok');
    for (const verdict of all) if (verdict.status === 'error') errorKinds[verdict.errorKind ?? 'unknown'] = (errorKinds[verdict.errorKind ?? 'unknown'] ?? 0) + 1;
    const correct = graded.filter((verdict) => verdict.pass).length;
    perProblem.push({
      id: item.id,
      tags: item.tags,
      samples: graded.length,
      correct,
      errors: all.length - graded.length,
      pass1: graded.length === 0 ? null : graded.reduce((sum, verdict) => sum + verdict.score, 0) / graded.length,
    });
    if (graded.length > 0) scored.push({ item, graded });
  }

  const scores = scored.map(({ graded }) => graded.map((verdict) => verdict.score));
  const mean = meanAtN(scores);
  const binary = scored.every(({ graded }) => graded.length === 1) && scores.every((list) => list.every((score) => score === 0 || score === 1));
  const minGraded = scored.length === 0 ? 0 : Math.min(...scored.map(({ graded }) => graded.length));
  const ks = powersOfTwoUpTo(minGraded);
  const samplesPerProblem = scored.map(({ graded }) => graded.length);
  const correctPerProblem = scored.map(({ graded }) => graded.filter((verdict) => verdict.pass).length);
  const passAtK = ks.map((k) => ({ k, value: passAtKBatch({ samples: samplesPerProblem, correct: correctPerProblem, k }).mean }));
  const majAtK = ks.map((k) => {
    let sum = 0;
    for (const { graded } of scored) {
      sum += consensusAtK({ samples: graded.map((verdict) => ({ answer: verdict.voteFor ?? verdict.answer, score: verdict.score })), k });
    }
    return { k, value: sum / scored.length };
  });

  const groups: Record<string, GroupSummary[]> = {};
  for (const tag of breakdowns) {
    const members = new Map<string, number[]>();
    scored.forEach(({ item }, index) => {
      const group = item.tags[tag];
      if (group === undefined) return;
      const list = members.get(group) ?? [];
      list.push(mean.perProblem[index] as number);
      members.set(group, list);
    });
    groups[tag] = [...members.entries()]
      .sort(([left], [right]) => left.localeCompare(right, 'en', { numeric: true }))
      .map(([group, values]) => ({ group, problems: values.length, ...interval(Float64Array.from(values), binary, seed) }));
  }

  const graded = verdicts.filter((verdict) => verdict.status === 'ok');
  const tokenCounts = verdicts.flatMap((verdict) => (verdict.completionTokens === undefined ? [] : [verdict.completionTokens]));
  const useTokens = tokenCounts.length === verdicts.filter((verdict) => verdict.status === 'ok').length && tokenCounts.length > 0;
  return {
    benchmark,
    model,
    n,
    problems: { total: items.length, scored: scored.length, unscored: items.length - scored.length },
    samples: {
      total: verdicts.length,
      graded: graded.length,
      errors: verdicts.length - graded.length,
      errorKinds,
      parseFailed: graded.filter((verdict) => verdict.parseFailed).length,
      truncated: graded.filter((verdict) => verdict.finishReason === 'length').length,
    },
    pass1: interval(mean.perProblem, binary, seed),
    passAtK,
    majAtK,
    breakdowns: groups,
    tokens: {
      completion: percentiles(tokenCounts),
      promptTotal: verdicts.reduce((sum, verdict) => sum + (verdict.promptTokens ?? 0), 0),
      completionTotal: tokenCounts.reduce((sum, count) => sum + count, 0),
    },
    latencyMs: percentiles(graded.map((verdict) => verdict.latencyMs)),
    lengthHistogram: useTokens
      ? { unit: 'tokens', bins: histogram(tokenCounts) }
      : { unit: 'characters', bins: histogram(graded.map((verdict) => verdict.outputChars)) },
    perProblem,
  };
}
