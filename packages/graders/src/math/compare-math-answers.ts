import { AipoError } from '@aipo/core';
import type { MathPool } from './math-pool';
import { getMathPool } from './math-pool';
import { compactLatex, normalizeLatex } from './normalize-latex';
import { parsePlainNumber, plainNumbersEqual } from './parse-plain-number';
import { nestingDepth } from './split-top-level';

export interface MathEquivalenceOptions {
  /** decimals kept when either side is written as a decimal (Math-Verify `float_rounding`); default 6 */
  floatRounding?: number;
  /** relative tolerance for irrational values and sampled identities; default 1e-9 */
  relativeTolerance?: number;
  /** hard deadline of the CAS comparison in ms; default: the pool's (2000) */
  timeoutMs?: number;
  /** longer answers are "not equal" without parsing (reliability.md §4.1 M8); default 1000 characters */
  maxAnswerLength?: number;
  /** bracket nesting beyond this is "not equal" without parsing (M5); default 32 */
  maxNestingDepth?: number;
  /** the worker pool to use; default the shared one (`closeMathPool()` ends it) */
  pool?: MathPool;
  /** abort → AipoError ABORTED; a running CAS comparison has its worker terminated */
  signal?: AbortSignal;
}

/** The verdict of `compareMathAnswers`: a value, never an exception, for any pair of strings. */
export interface MathEquivalence {
  equal: boolean;
  /** the rule that decided: 'string', 'number', 'text', 'guard', 'timeout', or a CAS rule ('set', 'sampled', ...) */
  method: string;
  /** one short sentence on why */
  reason: string;
  /** the CAS hit its deadline (recorded as "not equal") */
  timedOut: boolean;
  normalizedGold: string;
  normalizedPred: string;
}

const TEXT_ONLY = /^[A-Za-z][A-Za-z ]*$/;

function positive(name: string, value: number | undefined, fallback: number, integer = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `math option ${name} must be a finite non-negative ${integer ? 'integer' : 'number'}, got ${String(value)}` });
  }
  return value;
}

/** Resolved numeric options; throws INVALID_ARGUMENT on a malformed one (misuse, not a verdict). */
export function resolveMathOptions(options: MathEquivalenceOptions) {
  return {
    floatRounding: positive('floatRounding', options.floatRounding, 6, true),
    relativeTolerance: positive('relativeTolerance', options.relativeTolerance, 1e-9),
    maxAnswerLength: positive('maxAnswerLength', options.maxAnswerLength, 1000, true),
    maxNestingDepth: positive('maxNestingDepth', options.maxNestingDepth, 32, true),
    timeoutMs: options.timeoutMs === undefined ? undefined : positive('timeoutMs', options.timeoutMs, 0),
  };
}

/**
 * Compares a predicted answer with the gold one and says how it decided. `gold` decides the format
 * (Math-Verify's `verify` is asymmetric the same way). Fast paths first, in the calling thread:
 * normalised string equality, then plain numbers and fractions compared exactly in BigInt; only the
 * rest goes to the CAS worker pool, under a hard deadline.
 */
export async function compareMathAnswers(gold: string, pred: string, options: MathEquivalenceOptions = {}): Promise<MathEquivalence> {
  if (typeof gold !== 'string' || typeof pred !== 'string') {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `compareMathAnswers takes two strings, got ${typeof gold} and ${typeof pred}` });
  }
  const resolved = resolveMathOptions(options);
  throwIfAborted(options.signal);
  const verdict = (equal: boolean, method: string, reason: string, normalizedGold = '', normalizedPred = ''): MathEquivalence => ({
    equal,
    method,
    reason,
    timedOut: false,
    normalizedGold,
    normalizedPred,
  });
  for (const [side, text] of [['gold', gold], ['answer', pred]] as const) {
    if (text.length > resolved.maxAnswerLength) return verdict(false, 'guard', `the ${side} is longer than ${resolved.maxAnswerLength} characters`);
  }
  const normalizedGold = normalizeLatex(gold);
  const normalizedPred = normalizeLatex(pred);
  const result = (equal: boolean, method: string, reason: string) => verdict(equal, method, reason, normalizedGold, normalizedPred);
  if (normalizedGold === '' || normalizedPred === '') return result(false, 'empty', 'an empty answer is never equal');

  const compactGold = compactLatex(normalizedGold);
  const compactPred = compactLatex(normalizedPred);
  if (compactGold === compactPred) return result(true, 'string', 'identical after normalisation');

  const goldNumber = parsePlainNumber(normalizedGold);
  const predNumber = parsePlainNumber(normalizedPred);
  if (goldNumber !== undefined && predNumber !== undefined) {
    const equal = plainNumbersEqual(goldNumber, predNumber, resolved.floatRounding);
    return result(equal, 'number', equal ? 'equal numbers' : 'different numbers');
  }
  // \text{east} vs East: text answers compare case-insensitively (Math-Verify, eval.md §2.6)
  if ((normalizedGold.includes('\\text{') || normalizedPred.includes('\\text{')) && TEXT_ONLY.test(compactGold) && TEXT_ONLY.test(compactPred)) {
    const equal = compactGold.toLowerCase() === compactPred.toLowerCase();
    return result(equal, 'text', equal ? 'same text (case-insensitive)' : 'different text');
  }
  for (const [side, text] of [['gold', normalizedGold], ['answer', normalizedPred]] as const) {
    if (nestingDepth(text) > resolved.maxNestingDepth) return result(false, 'guard', `the ${side} nests brackets deeper than ${resolved.maxNestingDepth}`);
  }

  const pool = options.pool ?? getMathPool();
  const cas = await pool.compare({
    gold: normalizedGold,
    pred: normalizedPred,
    options: { floatRounding: resolved.floatRounding, relativeTolerance: resolved.relativeTolerance },
    ...(resolved.timeoutMs === undefined ? {} : { timeoutMs: resolved.timeoutMs }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  return { ...cas, normalizedGold, normalizedPred };
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AipoError({ code: 'ABORTED', message: 'the math comparison was aborted', cause: signal.reason });
}
