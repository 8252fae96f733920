/**
 * The CAS side of math equivalence, run inside the pool's worker threads (never on the main thread:
 * a `100000!` may take seconds, reliability.md §4.1 M1–M3). Parses both answers with
 * @cortex-js/compute-engine (ecosystem.md §1.6) into a small value model and compares them with
 * Math-Verify's order of checks (eval.md §2.1): structure, relations, sets/tuples/intervals,
 * matrices, then numbers (6-decimal rounding when a decimal is involved) and symbolic identity by
 * evaluation at sample points. Imports carry `.ts` so Node can load this file in a worker from source.
 */
import { ComputeEngine } from '@cortex-js/compute-engine';
import { complexOf, containsFloat, evaluator, type Expr, realPart, relativeEqual, roundedEqual, samplePoints } from './cas-numeric.ts';
import { splitTopLevel } from './split-top-level.ts';

/** The verdict the worker sends back. */
export interface CasVerdict {
  equal: boolean;
  /** which rule decided: 'structural', 'exact', 'numeric', 'sampled', 'set', 'tuple', ... */
  method: string;
  reason: string;
}

/** Numeric policy of the comparison (defaults: `resolveMathOptions` in compare-math-answers.ts). */
export interface CasOptions {
  /** decimals kept by Math-Verify-style absolute rounding when a side has a decimal literal */
  floatRounding: number;
  /** relative tolerance for exact-looking irrational values and sampled identities */
  relativeTolerance: number;
}

type Value =
  | { kind: 'set'; items: Value[] }
  | { kind: 'tuple' | 'list'; items: Value[] }
  | { kind: 'interval'; low: Expr; high: Expr; lowOpen: boolean; highOpen: boolean }
  | { kind: 'matrix'; rows: Expr[][] }
  | { kind: 'relation'; operator: string; operands: Expr[] }
  | { kind: 'text'; text: string }
  | { kind: 'expr'; expr: Expr };

const RELATIONS = new Set(['Equal', 'Less', 'LessEqual', 'Greater', 'GreaterEqual', 'NotEqual']);
const FLIPPED: Record<string, string> = { Greater: 'Less', GreaterEqual: 'LessEqual' };
const MIN_VALID_SAMPLES = 3;
const PARSE_CACHE_SIZE = 512;

function same(verdict: boolean, method: string, reason: string): CasVerdict {
  return { equal: verdict, method, reason };
}

export class LatexComparer {
  private readonly ce = new ComputeEngine();
  private options: CasOptions = { floatRounding: 6, relativeTolerance: 1e-9 };

  // In RL the same gold answer is compared with many samples: parsing (canonicalisation) is the
  // dominant CAS cost, so parsed expressions are kept in a small bounded cache.
  private readonly parsed = new Map<string, Expr>();

  private parse(latex: string): Expr {
    const cached = this.parsed.get(latex);
    if (cached !== undefined) return cached;
    const expr = this.ce.parse(latex) as unknown as Expr;
    if (this.parsed.size >= PARSE_CACHE_SIZE) this.parsed.delete(this.parsed.keys().next().value as string);
    this.parsed.set(latex, expr);
    return expr;
  }

  compare({ gold, pred, options }: { gold: string; pred: string; options: CasOptions }): CasVerdict {
    this.options = options;
    return this.compareValues(this.parseAnswer(gold), this.parseAnswer(pred));
  }

  private parseAnswer(text: string): Value {
    const body = text.replace(/^[a-zA-Z]\s*\\in\s*/, '');
    const parts = splitTopLevel(body, ',');
    if (parts.length > 1) return { kind: 'set', items: parts.map((part) => this.parseAnswer(part)) };
    const signs = body.match(/\\(?:pm|mp)(?![a-zA-Z])/g) ?? [];
    if (signs.length === 1) {
      // `a \pm b` is the set {a + b, a − b} (Math-Verify, eval.md §2.6)
      return {
        kind: 'set',
        items: ['+', '-'].map((sign) => this.parseAnswer(body.replace(/\\(?:pm|mp)(?![a-zA-Z])/, sign))),
      };
    }
    return this.fromExpression(this.parse(body));
  }

  private fromExpression(expr: Expr): Value {
    const operator = expr.operator;
    const ops = [...(expr.ops ?? [])];
    if (typeof expr.string === 'string') return { kind: 'text', text: expr.string };
    if (expr.symbol === 'EmptySet') return { kind: 'set', items: [] };
    if (operator === 'Set' || operator === 'Union') return { kind: 'set', items: ops.map((op) => this.fromExpression(op)) };
    if (operator === 'Tuple' || operator === 'Pair' || operator === 'Triple') return { kind: 'tuple', items: ops.map((op) => this.fromExpression(op)) };
    if (operator === 'List') return { kind: 'list', items: ops.map((op) => this.fromExpression(op)) };
    if (operator === 'Delimiter' && ops[0] !== undefined) return this.fromExpression(ops[0]);
    if (operator === 'Interval' && ops.length === 2) {
      const [low, high] = ops as [Expr, Expr];
      const lowOpen = low.operator === 'Open';
      const highOpen = high.operator === 'Open';
      return {
        kind: 'interval',
        low: lowOpen ? ((low.ops?.[0] ?? low) as Expr) : low,
        high: highOpen ? ((high.ops?.[0] ?? high) as Expr) : high,
        lowOpen,
        highOpen,
      };
    }
    if (operator === 'Matrix' && ops[0]?.operator === 'List') {
      return { kind: 'matrix', rows: (ops[0].ops ?? []).map((row) => (row.operator === 'List' ? [...(row.ops ?? [])] : [row])) };
    }
    if (RELATIONS.has(operator)) {
      const flipped = FLIPPED[operator];
      return flipped === undefined ? { kind: 'relation', operator, operands: ops } : { kind: 'relation', operator: flipped, operands: [...ops].reverse() };
    }
    return { kind: 'expr', expr };
  }

  private compareValues(gold: Value, pred: Value): CasVerdict {
    // assignments: `x = 3` vs `3` unwraps either side (Math-Verify); `2x+z=1` vs `1` does not
    const goldRhs = this.assignedValue(gold);
    if (goldRhs !== undefined && pred.kind !== 'relation') return this.compareValues(goldRhs, pred);
    const predRhs = this.assignedValue(pred);
    if (predRhs !== undefined && gold.kind !== 'relation') return this.compareValues(gold, predRhs);

    if (gold.kind === 'set' || pred.kind === 'set') return this.compareSets(gold, pred);
    if (gold.kind === 'relation' && pred.kind === 'relation') return this.compareRelations(gold, pred);
    if (gold.kind === 'relation' && this.asInterval(pred) !== undefined) {
      // gold inequality vs predicted interval, only in this direction (Math-Verify, against reward hacking)
      const interval = this.relationAsInterval(gold);
      return interval === undefined ? same(false, 'relation', 'gold relation is not a one-variable inequality') : this.compareIntervals(interval, pred);
    }
    if (gold.kind === 'interval' || pred.kind === 'interval') return this.compareIntervals(gold, pred);
    if (gold.kind === 'tuple' || gold.kind === 'list' || pred.kind === 'tuple' || pred.kind === 'list') {
      if ((gold.kind !== 'tuple' && gold.kind !== 'list') || gold.kind !== pred.kind) return same(false, 'tuple', `a ${gold.kind} is not a ${pred.kind}`);
      return this.compareOrdered(gold.items, (pred as Extract<Value, { kind: 'tuple' | 'list' }>).items, gold.kind);
    }
    if (gold.kind === 'matrix' || pred.kind === 'matrix') {
      if (gold.kind !== 'matrix' || pred.kind !== 'matrix') return same(false, 'matrix', 'only one side is a matrix');
      return this.compareMatrices(gold.rows, pred.rows);
    }
    if (gold.kind === 'text' || pred.kind === 'text') {
      const equal = gold.kind === 'text' && pred.kind === 'text' && gold.text.trim().toLowerCase() === pred.text.trim().toLowerCase();
      return same(equal, 'text', equal ? 'same text (case-insensitive)' : 'text differs');
    }
    if (gold.kind !== 'expr' || pred.kind !== 'expr') return same(false, 'relation', 'only one side is a relation');
    return this.compareScalars(gold.expr, pred.expr);
  }

  private assignedValue(value: Value): Value | undefined {
    if (value.kind !== 'relation' || value.operator !== 'Equal' || value.operands.length !== 2) return undefined;
    const [lhs, rhs] = value.operands as [Expr, Expr];
    return lhs.symbol !== undefined && lhs.symbol !== null ? this.fromExpression(rhs) : undefined;
  }

  /** Set equality, duplicates allowed (`\\boxed{15\\frac{39}{40}}` or `\\boxed{\\frac{639}{40}}` is one value). */
  private compareSets(gold: Value, pred: Value): CasVerdict {
    const goldItems = gold.kind === 'set' ? gold.items : [gold];
    const predItems = pred.kind === 'set' ? pred.items : [pred];
    const covered = new Set<number>();
    for (const item of goldItems) {
      let found = false;
      for (const [index, candidate] of predItems.entries()) {
        if (!this.compareValues(item, candidate).equal) continue;
        found = true;
        covered.add(index);
      }
      if (!found) return same(false, 'set', 'an expected element is missing');
    }
    if (covered.size !== predItems.length) return same(false, 'set', 'the answer has an element that is not expected');
    return same(true, 'set', 'same elements (unordered)');
  }

  private compareOrdered(gold: Value[], pred: Value[], kind: string): CasVerdict {
    if (gold.length !== pred.length) return same(false, kind, `${gold.length} components expected, ${pred.length} given`);
    for (const [index, item] of gold.entries()) {
      const other = pred[index];
      if (other === undefined || !this.compareValues(item, other).equal) return same(false, kind, `component ${index + 1} differs`);
    }
    return same(true, kind, `same ${kind}, in order`);
  }

  private compareIntervals(gold: Value, pred: Value): CasVerdict {
    const left = this.asInterval(gold);
    const right = this.asInterval(pred);
    if (left === undefined || right === undefined) return same(false, 'interval', 'only one side is an interval');
    if (left.lowOpen !== right.lowOpen || left.highOpen !== right.highOpen) return same(false, 'interval', 'endpoint types differ');
    const equal = this.compareScalars(left.low, right.low).equal && this.compareScalars(left.high, right.high).equal;
    return same(equal, 'interval', equal ? 'same endpoints and endpoint types' : 'endpoints differ');
  }

  /** `(a, b)` written as a tuple is an open interval and `[a, b]` (a list) a closed one (Math-Verify). */
  private asInterval(value: Value): Extract<Value, { kind: 'interval' }> | undefined {
    if (value.kind === 'interval') return value;
    if ((value.kind === 'tuple' || value.kind === 'list') && value.items.length === 2) {
      const [low, high] = value.items;
      if (low?.kind !== 'expr' || high?.kind !== 'expr') return undefined;
      const open = value.kind === 'tuple';
      return { kind: 'interval', low: low.expr, high: high.expr, lowOpen: open, highOpen: open };
    }
    return undefined;
  }

  private relationAsInterval(relation: Extract<Value, { kind: 'relation' }>): Value | undefined {
    const open = relation.operator === 'Less';
    if (!open && relation.operator !== 'LessEqual') return undefined;
    const ops = relation.operands;
    const isVariable = (expr: Expr | undefined) => expr?.symbol !== undefined && expr.symbol !== null && expr.unknowns.length === 1;
    const infinity = (sign: 1 | -1) => this.parse(sign > 0 ? '\\infty' : '-\\infty');
    if (ops.length === 3 && isVariable(ops[1])) {
      return { kind: 'interval', low: ops[0] as Expr, high: ops[2] as Expr, lowOpen: open, highOpen: open };
    }
    if (ops.length === 2 && isVariable(ops[0])) return { kind: 'interval', low: infinity(-1), high: ops[1] as Expr, lowOpen: true, highOpen: open };
    if (ops.length === 2 && isVariable(ops[1])) return { kind: 'interval', low: ops[0] as Expr, high: infinity(1), lowOpen: open, highOpen: true };
    return undefined;
  }

  private compareMatrices(gold: Expr[][], pred: Expr[][]): CasVerdict {
    if (gold.length !== pred.length || gold.some((row, index) => row.length !== pred[index]?.length)) return same(false, 'matrix', 'shapes differ');
    for (const [i, row] of gold.entries()) {
      for (const [j, cell] of row.entries()) {
        const other = pred[i]?.[j];
        if (other === undefined || !this.compareScalars(cell, other).equal) return same(false, 'matrix', `entry (${i + 1}, ${j + 1}) differs`);
      }
    }
    return same(true, 'matrix', 'same entries');
  }

  /**
   * Equations are equal up to a non-zero constant factor of `lhs − rhs` (eval.md §2.6:
   * `34x+45y-20z+100=0` equals its negation); inequalities, already flipped to `<`/`≤`, up to a
   * positive factor of `rhs − lhs`. Chains compare operand by operand.
   */
  private compareRelations(gold: Extract<Value, { kind: 'relation' }>, pred: Extract<Value, { kind: 'relation' }>): CasVerdict {
    if (gold.operator !== pred.operator) return same(false, 'relation', 'different relations');
    if (gold.operands.length !== 2 || pred.operands.length !== 2) {
      const equal = gold.operands.length === pred.operands.length && gold.operands.every((op, index) => this.compareScalars(op, pred.operands[index] as Expr).equal);
      return same(equal, 'relation', equal ? 'same chain' : 'chains differ');
    }
    const difference = (operands: Expr[]) => this.ce.box(['Subtract', operands[1], operands[0]] as never) as unknown as Expr;
    const positiveOnly = gold.operator !== 'Equal' && gold.operator !== 'NotEqual';
    const equal = this.proportional(difference(gold.operands), difference(pred.operands), positiveOnly);
    return same(equal, 'relation', equal ? 'same relation up to a constant factor' : 'relations differ');
  }

  private proportional(a: Expr, b: Expr, positiveOnly: boolean): boolean {
    const variables = [...new Set([...a.unknowns, ...b.unknowns])];
    let ratio: number | undefined;
    let valid = 0;
    const aAt = evaluator(a);
    const bAt = evaluator(b);
    for (const point of samplePoints(variables)) {
      const x = realPart(aAt(point));
      const y = realPart(bAt(point));
      if (x === undefined || y === undefined) continue;
      const scale = Math.max(Math.abs(x), Math.abs(y));
      if (scale < 1e-12) continue;
      if (Math.abs(y) < 1e-12 * scale || Math.abs(x) < 1e-12 * scale) return false;
      const current = x / y;
      if (ratio === undefined) ratio = current;
      else if (Math.abs(current - ratio) > this.options.relativeTolerance * Math.max(1, Math.abs(ratio))) return false;
      valid++;
    }
    return ratio !== undefined && valid >= (variables.length === 0 ? 1 : MIN_VALID_SAMPLES) && (!positiveOnly || ratio > 0);
  }

  private compareScalars(gold: Expr, pred: Expr): CasVerdict {
    if (gold.isSame(pred)) return same(true, 'structural', 'same expression');
    const variables = [...new Set([...gold.unknowns, ...pred.unknowns])];
    const decimal = containsFloat(gold.json) || containsFloat(pred.json);
    if (variables.length === 0) {
      const goldValue = gold.evaluate();
      const predValue = pred.evaluate();
      if (goldValue.isSame(predValue)) return same(true, 'exact', 'same exact value');
      if (!decimal && goldValue.isNumberLiteral && predValue.isNumberLiteral && goldValue.isRational === true && predValue.isRational === true) {
        return same(false, 'exact', 'different exact rationals');
      }
      const x = complexOf(gold.N());
      const y = complexOf(pred.N());
      if (x === undefined || y === undefined) return same(false, 'numeric', 'not a finite number');
      const equal = decimal ? roundedEqual(x, y, this.options.floatRounding) : relativeEqual(x, y, this.options.relativeTolerance);
      return same(equal, 'numeric', equal ? (decimal ? `equal after rounding to ${this.options.floatRounding} decimals` : 'numerically equal') : 'different values');
    }
    let valid = 0;
    const goldAt = evaluator(gold);
    const predAt = evaluator(pred);
    for (const point of samplePoints(variables)) {
      const x = goldAt(point);
      const y = predAt(point);
      if (x === undefined || y === undefined) continue;
      // sampled values carry floating-point cancellation (sin²x vs 1 − cos²x near x = π), so the
      // tolerance has an absolute floor of relativeTolerance here; constants keep a purely relative one
      if (!(decimal ? roundedEqual(x, y, this.options.floatRounding) : relativeEqual(x, y, this.options.relativeTolerance, 1))) return same(false, 'sampled', 'values differ at a sample point');
      valid++;
    }
    const equal = valid >= MIN_VALID_SAMPLES;
    return same(equal, 'sampled', equal ? `equal at ${valid} sample points` : 'too few points where both sides evaluate');
  }
}
