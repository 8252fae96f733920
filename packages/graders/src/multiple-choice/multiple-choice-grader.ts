import { AipoError } from '@aipo/core';
import type { GradeInput, GradeResult, Grader } from '../grader';
import { extractChoice } from './extract-choice';
import { CHOICE_LETTERS } from './shuffle-choices';

/**
 * Multiple-choice (GPQA) grader: the reference is the gold letter after shuffling (`shuffleChoices`
 * returns it). Options: `{ choiceCount }` (default 4, or enough letters to include the gold one).
 */
export const multipleChoiceGrader: Grader<string> = {
  id: 'multiple-choice',
  description: "Multiple choice: simple-evals' 'Answer: X' line (last match wins), \\boxed{X} fallback, vs the gold letter",
  async grade(input: GradeInput<string>): Promise<GradeResult> {
    const { output, reference } = input;
    if (typeof output !== 'string') throw new AipoError({ code: 'INVALID_ARGUMENT', message: `multiple-choice output must be a string, got ${typeof output}` });
    if (typeof reference !== 'string' || !/^[A-Z]$/.test(reference)) {
      throw new AipoError({ code: 'INVALID_ARGUMENT', message: `multiple-choice reference must be one uppercase letter, got ${JSON.stringify(reference)}` });
    }
    const requested = input.options?.choiceCount;
    if (requested !== undefined && !(Number.isInteger(requested) && (requested as number) >= 2 && (requested as number) <= CHOICE_LETTERS.length)) {
      throw new AipoError({ code: 'INVALID_ARGUMENT', message: `multiple-choice choiceCount must be an integer from 2 to ${CHOICE_LETTERS.length}` });
    }
    const count = Math.max((requested as number | undefined) ?? 4, CHOICE_LETTERS.indexOf(reference) + 1);
    const choice = extractChoice(output, { letters: CHOICE_LETTERS.slice(0, count) });
    if (choice === undefined) {
      return { pass: false, score: 0, reason: 'no answer letter found in the output', parseFailed: true, details: { gold: reference } };
    }
    const pass = choice.letter === reference;
    return {
      pass,
      score: pass ? 1 : 0,
      reason: pass ? `answered ${choice.letter}, the gold letter` : `answered ${choice.letter}, gold is ${reference}`,
      details: { extracted: choice.letter, source: choice.source, gold: reference },
    };
  },
};
