import { AipoError } from '@aipo/core';
import { CHOICE_LETTERS } from './shuffle-choices';

/**
 * simple-evals' `QUERY_TEMPLATE_MULTICHOICE` (openai/simple-evals @ ee3b031, gpqa_eval.py; eval.md
 * §2.4), verbatim for four options; more options extend the letter list and the lines the same way.
 */
export function formatMultipleChoicePrompt(question: string, choices: readonly string[]): string {
  if (typeof question !== 'string' || !Array.isArray(choices) || choices.length < 2 || choices.length > CHOICE_LETTERS.length) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `formatMultipleChoicePrompt needs a question and 2 to ${CHOICE_LETTERS.length} choices` });
  }
  const letters = CHOICE_LETTERS.slice(0, choices.length);
  const lines = choices.map((choice, index) => `${letters[index]}) ${choice}`).join('\n');
  return (
    `Answer the following multiple choice question. The last line of your response should be of the following format: ` +
    `'Answer: $LETTER' (without quotes) where LETTER is one of ${letters}. Think step by step before answering.\n\n${question}\n\n${lines}`
  ).trim();
}
