/**
 * Maps an extracted answer to the string two answers must share to count as the same vote.
 * Returning `undefined` means "no answer" (an unparsable response): it abstains from the vote.
 */
export type AnswerKey<A> = (answer: A) => string | undefined;

/**
 * The default key: strings as they are, numbers and booleans through `String`, `null`/`undefined`
 * abstain, and objects as JSON with sorted keys so `{a,b}` and `{b,a}` vote together. Normalising
 * answers (LaTeX, whitespace, `0.5` vs `\frac12`) is the grader's job; pass its canonical form
 * through a custom key.
 */
export function defaultAnswerKey(answer: unknown): string | undefined {
  if (answer === null || answer === undefined) return undefined;
  if (typeof answer === 'string') return answer;
  if (typeof answer === 'number' || typeof answer === 'boolean' || typeof answer === 'bigint') return String(answer);
  return JSON.stringify(answer, (_name, value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)))
      : value,
  );
}
