/**
 * Numeric helpers of the CAS comparison (worker side): sample points, fast evaluators and the two
 * equality rules (Math-Verify's absolute rounding when a decimal is involved, relative tolerance
 * otherwise). Imports carry `.ts` so Node can load this file in a worker from source.
 */
import { compileMathJson } from './evaluate-math-json.ts';

/**
 * The slice of compute-engine's boxed expression this file uses. CE's own types split these members
 * over type guards; one structural view keeps the comparison readable and pins what we rely on.
 */
export interface Expr {
  readonly operator: string;
  readonly ops?: readonly Expr[] | null;
  readonly string?: string | null;
  readonly symbol?: string | null;
  readonly unknowns: readonly string[];
  readonly json: unknown;
  readonly re: number;
  readonly im: number;
  readonly isNumberLiteral: boolean;
  readonly isRational: boolean | undefined;
  isSame(other: Expr): boolean;
  evaluate(): Expr;
  N(): Expr;
  subs(point: Record<string, number>): Expr;
}

/** A value as (re, im); undefined when not a finite number. */
export type Complex = [number, number];

// deterministic sample points: away from 0, 1 and small integers where identities coincide by accident
// biome-ignore lint/suspicious/noApproximativeNumericConstant: these are sample points, not the constants
const SAMPLE_POINTS = [0.5772, 1.4142, 2.7183, 0.3183, 1.7321, 3.1416];

/** True when the MathJSON holds a decimal literal (then numbers compare with rounding, not exactly). */
export function containsFloat(json: unknown): boolean {
  if (typeof json === 'number') return !Number.isInteger(json);
  if (Array.isArray(json)) return json.some(containsFloat);
  if (json !== null && typeof json === 'object' && 'num' in json) return /[.e]/i.test(String((json as { num: unknown }).num));
  return false;
}

/** One point per sample, each variable on a different sample value. */
export function* samplePoints(variables: string[]): Generator<Record<string, number>> {
  for (const [index] of SAMPLE_POINTS.entries()) {
    const point: Record<string, number> = {};
    for (const [offset, name] of variables.entries()) point[name] = SAMPLE_POINTS[(index + offset * 2) % SAMPLE_POINTS.length] as number;
    yield point;
  }
}

/** A compute-engine numeric value as (re, im); non-finite values never compare equal (reliability.md §4.1 M11). */
export function complexOf(expr: Expr): Complex | undefined {
  const re = expr.re;
  const im = expr.im ?? 0;
  return typeof re === 'number' && Number.isFinite(re) && Number.isFinite(im) ? [re, im] : undefined;
}

/** A numeric evaluator for sampling: the MathJSON closure when possible, else compute-engine's substitution. */
export function evaluator(expr: Expr): (point: Record<string, number>) => Complex | undefined {
  const fast = compileMathJson(expr.json, new Set(expr.unknowns));
  if (fast === undefined) return (point) => complexOf(expr.subs(point).N());
  return (point) => {
    const value = fast(point);
    return Number.isFinite(value) ? [value, 0] : undefined;
  };
}

export function realPart(value: Complex | undefined): number | undefined {
  return value === undefined || Math.abs(value[1]) > 1e-12 * Math.max(1, Math.abs(value[0])) ? undefined : value[0];
}

/** Math-Verify: `a.round(d) == b.round(d)`, an absolute rounding (1/3 = 0.333333, 1/3 ≠ 0.33). */
export function roundedEqual(a: Complex, b: Complex, digits: number): boolean {
  const round = (value: number) => Number(value.toFixed(digits));
  return round(a[0]) === round(b[0]) && round(a[1]) === round(b[1]);
}

/** |a − b| ≤ tolerance · max(|a|, |b|, floor). */
export function relativeEqual(a: Complex, b: Complex, tolerance: number, floor = 1e-300): boolean {
  const scale = Math.max(Math.hypot(a[0], a[1]), Math.hypot(b[0], b[1]));
  return Math.hypot(a[0] - b[0], a[1] - b[1]) <= tolerance * Math.max(scale, floor);
}
