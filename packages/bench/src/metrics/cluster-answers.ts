import { AipoError } from '@aipo/core';

/** Whether two extracted answers say the same thing; `representative` is the earlier one. */
export type AnswerEquivalence = (representative: string, candidate: string) => Promise<boolean>;

export interface ClusterAnswersOptions {
  /** one problem's extracted answers in sample order; undefined abstains (no answer found) */
  answers: ReadonlyArray<string | undefined>;
  /** the slow check between cluster representatives (the math grader's CAS comparison) */
  equivalent: AnswerEquivalence;
  /** a cheap canonical form: equal keys are the same answer without calling `equivalent` */
  canonicalKey?: (answer: string) => string;
  /** calls to `equivalent` allowed for this problem; past it, unseen keys start their own cluster (default 256) */
  maxComparisons?: number;
}

/**
 * Group one problem's answers into equivalence classes for majority voting, so `1/2`, `0.5` and
 * `\frac{1}{2}` cast one vote between them (maj@k by answer equivalence, as Qwen2.5-Math's and
 * Math-Verify's voting do; eval.md §2). Answers with the same canonical key join at once; a new
 * key is compared with the representative (first member, in sample order) of each existing cluster
 * in creation order and joins the first one it equals. Sample order alone decides, so the result
 * is deterministic; equivalence is not always transitive, and first-match keeps that from
 * depending on anything but the order. Returns each sample's cluster representative.
 */
export async function clusterAnswers({ answers, equivalent, canonicalKey = (answer) => answer, maxComparisons = 256 }: ClusterAnswersOptions): Promise<Array<string | undefined>> {
  if (!Number.isInteger(maxComparisons) || maxComparisons < 0) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `maxComparisons must be a non-negative integer, got ${maxComparisons}` });
  }
  const representativeOfKey = new Map<string, string>();
  const representatives: string[] = [];
  let comparisons = 0;
  const result: Array<string | undefined> = [];
  for (const answer of answers) {
    if (answer === undefined) {
      result.push(undefined);
      continue;
    }
    const key = canonicalKey(answer);
    let representative = representativeOfKey.get(key);
    if (representative === undefined) {
      for (const candidate of representatives) {
        if (comparisons >= maxComparisons) break;
        comparisons++;
        if (await equivalent(candidate, answer)) {
          representative = candidate;
          break;
        }
      }
      if (representative === undefined) {
        representative = answer;
        representatives.push(answer);
      }
      representativeOfKey.set(key, representative);
    }
    result.push(representative);
  }
  return result;
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;
const FRACTION = /^([+-]?)(?:\\frac\{(\d+)\}\{(\d+)\}|(\d+)\/(\d+))$/;

function gcd(left: bigint, right: bigint): bigint {
  let [a, b] = [left < 0n ? -left : left, right];
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function rationalKey(negative: boolean, numerator: bigint, denominator: bigint): string | undefined {
  if (denominator === 0n) return undefined;
  const divisor = gcd(numerator, denominator);
  const top = numerator / divisor;
  const bottom = denominator / divisor;
  const sign = negative && top !== 0n ? '-' : '';
  return bottom === 1n ? `${sign}${top}` : `${sign}${top}/${bottom}`;
}

/**
 * Canonical key of a normalised math answer: integers, decimals and simple fractions become an
 * exact reduced rational (`0.5`, `1/2`, `\frac{2}{4}` → `1/2`; `5.0` → `5`), anything else the
 * answer without whitespace. Cheap and exact; what it cannot see (`x+1` vs `1+x`, `0.333333` vs
 * `1/3` under 6-decimal rounding) is left to the CAS comparison between representatives.
 */
export function mathAnswerKey(answer: string): string {
  const compact = answer.replace(/\s+/g, '');
  if (compact.length > 60) return compact; // long digit strings: exact BigInt work is not "cheap"
  const decimal = DECIMAL.exec(compact);
  if (decimal !== null) {
    const [, sign, whole = '0', fraction = ''] = decimal;
    return rationalKey(sign === '-', BigInt(`${whole}${fraction}`), 10n ** BigInt(fraction.length)) ?? compact;
  }
  const fraction = FRACTION.exec(compact);
  if (fraction !== null) {
    const [, sign, latexTop, latexBottom, slashTop, slashBottom] = fraction;
    return rationalKey(sign === '-', BigInt(latexTop ?? slashTop ?? '0'), BigInt(latexBottom ?? slashBottom ?? '1')) ?? compact;
  }
  return compact;
}
