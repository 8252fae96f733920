import type { GradeRecord, SampleRecord } from './result-records';

/** The few facts per sample that metrics need; outputs themselves stay in the results file. */
export interface SampleVerdict {
  itemId: string;
  sampleIndex: number;
  /** `error`: the API never answered; excluded from scores, counted separately */
  status: 'ok' | 'error';
  pass: boolean;
  score: number;
  parseFailed: boolean;
  /** the answer the grader extracted, for maj@k (undefined when none) */
  answer: string | undefined;
  /**
   * the representative of this answer's equivalence class within its problem (`voteByEquivalence`);
   * maj@k votes by it when set, else by `answer` as a string
   */
  voteFor?: string;
  completionTokens: number | undefined;
  promptTokens: number | undefined;
  latencyMs: number;
  finishReason: string | null;
  outputChars: number;
  errorKind?: string;
}

function extractedAnswer(details: Record<string, unknown>): string | undefined {
  // The grader's normalised LaTeX first, so \dfrac12 and \frac{1}{2} share a string even before
  // `voteByEquivalence` groups 1/2 with 0.5 by the grader's equivalence.
  for (const name of ['normalizedAnswer', 'normalized', 'extracted', 'answer', 'extractedAnswer', 'choice']) {
    const value = details[name];
    if (typeof value === 'string' && value !== '') return value;
    if (typeof value === 'number') return String(value);
  }
  return undefined;
}

/** Combine a sample record and its grade (absent for API errors) into a verdict. */
export function toVerdict(sample: SampleRecord, grade: GradeRecord | undefined): SampleVerdict {
  const base = {
    itemId: sample.itemId,
    sampleIndex: sample.sampleIndex,
    completionTokens: sample.usage?.completionTokens,
    promptTokens: sample.usage?.promptTokens,
    latencyMs: sample.latencyMs,
    finishReason: sample.finishReason ?? null,
    outputChars: sample.output?.length ?? 0,
  };
  if (sample.status === 'error' || grade === undefined) {
    return { ...base, status: 'error', pass: false, score: 0, parseFailed: false, answer: undefined, errorKind: sample.error?.kind ?? 'ungraded' };
  }
  return {
    ...base,
    status: 'ok',
    pass: grade.pass,
    score: grade.score,
    parseFailed: grade.parseFailed === true,
    answer: grade.parseFailed ? undefined : extractedAnswer(grade.details),
  };
}
