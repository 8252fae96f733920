import { extractBoxed } from '../math/extract-boxed';
import { stripThinking } from '../math/strip-thinking';

export interface ExtractChoiceOptions {
  /** letters that count as an answer; default `ABCD` */
  letters?: string;
}

export interface ExtractedChoice {
  letter: string;
  /** 'answer-line' (simple-evals regex), 'boxed' or 'answer-is' fallbacks */
  source: 'answer-line' | 'boxed' | 'answer-is';
}

// simple-evals: (?i)Answer[ \t]*:[ \t]*\$?([A-D])\$? . Two documented deviations: the LAST match wins
// (reasoning models restate "Answer:" while thinking, eval.md §2.6), and the letter must be an
// uppercase letter not followed by another letter, so "answer: definitely" is not a D.
const ANSWER_LINE = /(?:answer|Answer|ANSWER)[ \t]*:[ \t]*\$?(?:\\text\{)?\(?([A-Z])\)?\}?\$?(?![A-Za-z])/g;
const ANSWER_IS = /answer is[ \t:]*\$?(?:\\text\{)?\(?([A-Z])\)?\}?\$?(?![A-Za-z])/gi;

function lastLetter(pattern: RegExp, text: string, letters: string): string | undefined {
  let last: string | undefined;
  for (const match of text.matchAll(pattern)) {
    const letter = match[1]?.toUpperCase();
    if (letter !== undefined && letters.includes(letter)) last = letter;
  }
  return last;
}

/** The chosen letter of a multiple-choice output: `Answer: X` (last wins), else `\boxed{X}`, else "the answer is (X)". */
export function extractChoice(output: string, options: ExtractChoiceOptions = {}): ExtractedChoice | undefined {
  const letters = options.letters ?? 'ABCD';
  // markdown emphasis (`**Answer:** B`, common in chat models) would hide the line from the regex
  const text = stripThinking(output).replace(/\*\*|__/g, '');
  const line = lastLetter(ANSWER_LINE, text, letters);
  if (line !== undefined) return { letter: line, source: 'answer-line' };
  const boxed = extractBoxed(text)
    ?.replace(/\\text(?:bf)?\{([^{}]*)\}/g, '$1')
    .replace(/[\s()$.]/g, '');
  if (boxed !== undefined && boxed.length === 1 && letters.includes(boxed.toUpperCase())) return { letter: boxed.toUpperCase(), source: 'boxed' };
  const answerIs = lastLetter(ANSWER_IS, text, letters);
  return answerIs === undefined ? undefined : { letter: answerIs, source: 'answer-is' };
}
