import { AipoError } from '@aipo/core';
import type { GradeInput, GradeResult, Grader } from '../grader';
import { type ExtractMathAnswerOptions, extractMathAnswer } from './extract-math-answer';
import { compareMathAnswers, type MathEquivalenceOptions, resolveMathOptions } from './compare-math-answers';

/** Options of the math grader: extraction (fallbacks) plus equivalence (precision, deadline, pool). */
export interface MathGraderOptions extends ExtractMathAnswerOptions, MathEquivalenceOptions {}

/** The gold answer: a LaTeX or plain string; AIME-style integers may be given as numbers. */
export type MathReference = string | number;

const OPTION_KEYS = new Set(['fallbacks', 'maxScanLength', 'floatRounding', 'relativeTolerance', 'timeoutMs', 'maxAnswerLength', 'maxNestingDepth', 'pool']);
const FALLBACKS = new Set(['final-answer', 'answer-colon', 'last-number']);

function validateOptions(options: Record<string, unknown>): MathGraderOptions {
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) throw new AipoError({ code: 'INVALID_ARGUMENT', message: `unknown math grader option "${key}"`, details: { allowed: [...OPTION_KEYS] } });
  }
  const { fallbacks } = options;
  if (fallbacks !== undefined && (!Array.isArray(fallbacks) || fallbacks.some((name) => !FALLBACKS.has(name as string)))) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `math grader fallbacks must be a list of ${[...FALLBACKS].join(', ')}` });
  }
  const typed = options as MathGraderOptions;
  resolveMathOptions(typed);
  return typed;
}

/**
 * Grades a model output against a gold answer: extract (eval.md §2.6), then `compareMathAnswers`.
 * No answer found is `parseFailed`; a CAS timeout is a failing result with `details.timedOut`.
 */
export function createMathGrader(options: MathGraderOptions = {}): Grader<MathReference> {
  const defaults = validateOptions({ ...options });
  return {
    id: 'math',
    description: 'Math answers: last \\boxed{} vs a LaTeX gold answer, exact, numeric and symbolic (compute-engine) equivalence',
    async grade(input: GradeInput<MathReference>): Promise<GradeResult> {
      const { output, reference } = input;
      if (typeof output !== 'string') throw new AipoError({ code: 'INVALID_ARGUMENT', message: `math grader output must be a string, got ${typeof output}` });
      if (typeof reference !== 'string' && !(typeof reference === 'number' && Number.isFinite(reference))) {
        throw new AipoError({ code: 'INVALID_ARGUMENT', message: `math grader reference must be a string or a finite number, got ${String(reference)}` });
      }
      if (input.signal?.aborted) throw new AipoError({ code: 'ABORTED', message: 'grading was aborted', cause: input.signal.reason });
      const settings = input.options === undefined ? defaults : { ...defaults, ...validateOptions({ ...input.options }) };
      const gold = String(reference);
      const extracted = extractMathAnswer(output, settings);
      if (extracted === undefined) {
        return { pass: false, score: 0, reason: 'no answer found in the output', parseFailed: true, details: { gold } };
      }
      // the signal is per call (GradeInput.signal), never a stored option
      const verdict = await compareMathAnswers(gold, extracted.answer, input.signal === undefined ? settings : { ...settings, signal: input.signal });
      return {
        pass: verdict.equal,
        score: verdict.equal ? 1 : 0,
        reason: verdict.reason,
        details: {
          extracted: extracted.answer.length > 200 ? `${extracted.answer.slice(0, 200)}…` : extracted.answer,
          source: extracted.source,
          gold,
          method: verdict.method,
          timedOut: verdict.timedOut,
          normalizedGold: verdict.normalizedGold,
          normalizedAnswer: verdict.normalizedPred.slice(0, 200),
        },
      };
    },
  };
}

/** The math grader with default options (boxed answers only, 6-decimal rounding, 2 s CAS deadline). */
export const mathGrader: Grader<MathReference> = createMathGrader();
