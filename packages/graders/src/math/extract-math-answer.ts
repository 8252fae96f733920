import { findBoxedSpans } from './extract-boxed';
import { stripThinking } from './strip-thinking';

/** Where an extracted answer came from, recorded in the grade details. */
export type MathAnswerSource = 'boxed' | 'boxed-set' | 'final-answer' | 'answer-colon' | 'last-number';

/** Fallbacks used when the output holds no `\boxed{}`; each must be switched on explicitly. */
export type MathFallback = 'final-answer' | 'answer-colon' | 'last-number';

export interface ExtractMathAnswerOptions {
  /**
   * Fallbacks tried in this fixed priority when no box is found: "The final answer is …" (Minerva /
   * Math-Verify priority 0–50), then "Answer: …" (simple-evals), then the last number (Qwen2.5-Math).
   * Default none: RL rewards should not be earned by a stray number (eval.md §2.6).
   */
  fallbacks?: readonly MathFallback[];
  /** only the last this-many characters (after `<think>` removal) are searched; default 1 000 000 */
  maxScanLength?: number;
}

export interface ExtractedMathAnswer {
  /** the raw answer text (several adjacent boxes are joined with `, ` and graded as a set) */
  answer: string;
  source: MathAnswerSource;
}

const FALLBACK_ORDER: readonly MathFallback[] = ['final-answer', 'answer-colon', 'last-number'];
// single-quantifier patterns only: no nested repetition, so no ReDoS (reliability.md §4.1 M7)
const FINAL_ANSWER = /final answer is[ \t]*:?[ \t]*([^\n]+)/gi;
const ANSWER_COLON = /answer[ \t]*:[ \t]*([^\n]+)/gi;
const LAST_NUMBER = /-?\d[\d,]*(?:\.\d+)?|-?\.\d+/g;
// Math-Verify joins boxes whose separating text is short, or a little longer but a list joiner
const SHORT_GAP = 10;
const LIST_GAP = 70;
const LIST_JOINER = /\b(?:and|or)\b|[,;]/;
const MAX_JOINED_BOXES = 5;

function lastMatch(pattern: RegExp, text: string): string | undefined {
  let last: string | undefined;
  for (const match of text.matchAll(pattern)) last = match[1] ?? match[0];
  return last;
}

function cleanFallback(answer: string): string {
  // Minerva's "… is $X$. I hope it is correct." and trailing sentence punctuation
  const cut = answer.replace(/\.?\s*I hope it is correct\.?$/i, '').trim();
  return cut.replace(/^\$+|\$+$/g, '').replace(/[.\s]+$/, '').trim();
}

/**
 * Finds the answer in a model output (eval.md §2.6): strip `<think>…</think>`, take the last
 * balanced `\boxed{}`/`\fbox{}` (several boxes close together become a set, like Math-Verify),
 * else the configured fallbacks. Undefined means "no answer": a parse failure, never a pass.
 */
export function extractMathAnswer(output: string, options: ExtractMathAnswerOptions = {}): ExtractedMathAnswer | undefined {
  const { fallbacks = [], maxScanLength = 1_000_000 } = options;
  let text = stripThinking(output);
  if (text.length > maxScanLength) text = text.slice(text.length - maxScanLength);

  const spans = findBoxedSpans(text);
  const last = spans.at(-1);
  if (last !== undefined) {
    const joined = [last];
    for (let index = spans.length - 2; index >= 0 && joined.length < MAX_JOINED_BOXES; index--) {
      const span = spans[index];
      const next = joined[0];
      if (span === undefined || next === undefined) break;
      const gap = text.slice(span.end, next.start).replace(/\$/g, '');
      if (!(gap.trim().length < SHORT_GAP || (gap.length < LIST_GAP && LIST_JOINER.test(gap)))) break;
      joined.unshift(span);
    }
    if (joined.length === 1) return last.content.trim() === '' ? undefined : { answer: last.content.trim(), source: 'boxed' };
    return { answer: joined.map((span) => span.content.trim()).join(', '), source: 'boxed-set' };
  }

  for (const fallback of FALLBACK_ORDER) {
    if (!fallbacks.includes(fallback)) continue;
    const raw =
      fallback === 'final-answer'
        ? lastMatch(FINAL_ANSWER, text)
        : fallback === 'answer-colon'
          ? lastMatch(ANSWER_COLON, text)
          : lastMatch(LAST_NUMBER, text);
    const answer = raw === undefined ? '' : cleanFallback(raw);
    if (answer !== '') return { answer, source: fallback };
  }
  return undefined;
}
