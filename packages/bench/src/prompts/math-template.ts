import type { PromptTemplate } from '../benchmark';

/**
 * The math prompt recommended by the DeepSeek-R1 README (§ usage recommendations) and used by QwQ's
 * AIME files: no system prompt, the problem, then the \boxed{} instruction.
 */
export const MATH_BOXED_SUFFIX = 'Please reason step by step, and put your final answer within \\boxed{}.';

export const mathTemplate: PromptTemplate = { user: `{problem}\n${MATH_BOXED_SUFFIX}` };

/** QwQ's AIME files store the finished prompt; strip the suffix to recover the bare problem. */
export function stripMathSuffix(prompt: string): string {
  const trimmed = prompt.trimEnd();
  return trimmed.endsWith(MATH_BOXED_SUFFIX) ? trimmed.slice(0, -MATH_BOXED_SUFFIX.length).trimEnd() : trimmed;
}
