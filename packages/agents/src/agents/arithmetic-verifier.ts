import type { Agent } from '../aipo/agent';

const NUMBER = String.raw`[-−]?\d{1,30}(?:\.\d{1,30})?`;
// One claim `a op b = c`; bounded digit runs and no nested quantifiers, so matching is linear.
const CLAIM = new RegExp(String.raw`(${NUMBER})\s*([-+*/×÷−·x])\s*(${NUMBER})\s*=\s*(${NUMBER})`, 'g');

/** The outcome of checking one claim. */
export interface ArithmeticCheck {
  /** the claim as written */
  claim: string;
  /** whether the claimed result is right */
  correct: boolean;
  /** the true value (undefined for division by zero) */
  actual?: number;
}

/** Check every `a op b = c` claim in `text` (ops: + - * / × ÷ ·), with a relative tolerance. */
export function checkArithmeticClaims(text: string, tolerance = 1e-9): ArithmeticCheck[] {
  const checks: ArithmeticCheck[] = [];
  for (const match of text.matchAll(CLAIM)) {
    const [claim, left, op, right, claimed] = match as unknown as [string, string, string, string, string];
    const a = toNumber(left);
    const b = toNumber(right);
    const c = toNumber(claimed);
    const actual = apply(op, a, b);
    if (actual === undefined) {
      checks.push({ claim, correct: false });
      continue;
    }
    checks.push({ claim, correct: Math.abs(actual - c) <= tolerance * Math.max(1, Math.abs(actual)), actual });
  }
  return checks;
}

function toNumber(text: string): number {
  return Number(text.replace('−', '-'));
}

function apply(op: string, a: number, b: number): number | undefined {
  switch (op) {
    case '+':
      return a + b;
    case '-':
    case '−':
      return a - b;
    case '*':
    case '×':
    case '·':
    case 'x':
      return a * b;
    default:
      return b === 0 ? undefined : a / b;
  }
}

/**
 * A programmatic Verify Agent for synthetic arithmetic tasks: checks each `a op b = c` claim in
 * the request and answers in the Verify role's format (`correct`, or `incorrect: …`).
 */
export function createArithmeticVerifier(options: { name?: string } = {}): Agent {
  return {
    name: options.name ?? 'verify',
    description: 'checks arithmetic claims written as "a op b = c"',
    async consult({ query }) {
      const checks = checkArithmeticClaims(query);
      let text: string;
      if (checks.length === 0) text = 'cannot check: no claim of the form "a op b = c" found';
      else {
        const wrong = checks.filter((check) => !check.correct);
        text =
          wrong.length === 0
            ? 'correct'
            : `incorrect: ${wrong
                .map((check) =>
                  check.actual === undefined
                    ? `${check.claim} divides by zero`
                    : `${check.claim.split('=')[0]?.trim()} = ${formatNumber(check.actual)}`,
                )
                .join('; ')}`;
      }
      return { text, fullText: text };
    },
  };
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(12)));
}
