import type { RunSummary } from '../metrics/summarize-run';

export interface ThresholdFailure {
  benchmark: string;
  score: number;
  minimum: number;
}

/**
 * CI gating: compare each benchmark's pass@1 with its minimum (`--min-score math500=0.42`, or one
 * number for all). A benchmark with no scored problem fails its gate: an outage must not pass CI.
 */
export function checkThresholds({ summaries, minScores }: { summaries: readonly RunSummary[]; minScores: Record<string, number> }): ThresholdFailure[] {
  const failures: ThresholdFailure[] = [];
  for (const summary of summaries) {
    const minimum = minScores[summary.benchmark] ?? minScores['*'];
    if (minimum === undefined) continue;
    if (summary.problems.scored === 0 || summary.pass1.value < minimum) failures.push({ benchmark: summary.benchmark, score: summary.pass1.value, minimum });
  }
  return failures;
}
