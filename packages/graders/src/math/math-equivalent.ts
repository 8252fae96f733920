import { compareMathAnswers, type MathEquivalenceOptions } from './compare-math-answers';

/**
 * Is `pred` mathematically equivalent to `gold`? The boolean form of `compareMathAnswers` (which
 * also says which rule decided and whether the CAS timed out; a timeout is `false`).
 */
export async function isMathEquivalent(gold: string, pred: string, options: MathEquivalenceOptions = {}): Promise<boolean> {
  return (await compareMathAnswers(gold, pred, options)).equal;
}
