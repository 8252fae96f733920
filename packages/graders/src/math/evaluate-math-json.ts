/**
 * A small real-valued evaluator over MathJSON, used to sample expressions at points. compute-engine's
 * own `subs().N()` or `compile()` cost milliseconds per expression; this costs microseconds, which
 * is what keeps the CAS path near the throughput target. Anything it does not know returns
 * undefined and the caller falls back to compute-engine. Imports carry `.ts` (worker side).
 */
type Json = unknown;
type Evaluate = (point: Record<string, number>) => number;

const CONSTANTS: Record<string, number> = { Pi: Math.PI, ExponentialE: Math.E, Half: 0.5 };
const UNARY: Record<string, (x: number) => number> = {
  Negate: (x) => -x,
  Sqrt: Math.sqrt,
  Square: (x) => x * x,
  Exp: Math.exp,
  Ln: Math.log,
  Abs: Math.abs,
  Sin: Math.sin,
  Cos: Math.cos,
  Tan: Math.tan,
  Cot: (x) => 1 / Math.tan(x),
  Sec: (x) => 1 / Math.cos(x),
  Csc: (x) => 1 / Math.sin(x),
  Arcsin: Math.asin,
  Arccos: Math.acos,
  Arctan: Math.atan,
  Sinh: Math.sinh,
  Cosh: Math.cosh,
  Tanh: Math.tanh,
};

function numberOf(json: Json): number | undefined {
  if (typeof json === 'number') return json;
  if (json !== null && typeof json === 'object' && !Array.isArray(json) && 'num' in json) {
    const value = Number(String((json as { num: unknown }).num).replace(/\.\.\.$/, ''));
    return Number.isNaN(value) ? undefined : value;
  }
  return undefined;
}

/**
 * Compiles a MathJSON expression to a closure, or undefined when it uses anything unknown: an
 * operator outside the table, or a symbol that is neither a known constant nor one of `variables`
 * (so `ImaginaryUnit` and friends go to compute-engine).
 */
export function compileMathJson(json: Json, variables: ReadonlySet<string>): Evaluate | undefined {
  const constant = numberOf(json);
  if (constant !== undefined) return () => constant;
  if (typeof json === 'string') {
    const value = CONSTANTS[json];
    if (value !== undefined) return () => value;
    if (!variables.has(json)) return undefined;
    return (point) => point[json] ?? Number.NaN;
  }
  if (!Array.isArray(json) || typeof json[0] !== 'string') return undefined;
  const [operator, ...rest] = json as [string, ...Json[]];
  const args: Evaluate[] = [];
  for (const arg of rest) {
    const compiled = compileMathJson(arg, variables);
    if (compiled === undefined) return undefined;
    args.push(compiled);
  }
  const [a, b] = args;
  const unary = UNARY[operator];
  if (unary !== undefined && a !== undefined && args.length === 1) return (point) => unary(a(point));
  switch (operator) {
    case 'Add':
      return (point) => args.reduce((sum, arg) => sum + arg(point), 0);
    case 'Multiply':
      return (point) => args.reduce((product, arg) => product * arg(point), 1);
    case 'Subtract':
      return a && b && args.length === 2 ? (point) => a(point) - b(point) : undefined;
    case 'Divide':
    case 'Rational':
      return a && b && args.length === 2 ? (point) => a(point) / b(point) : undefined;
    case 'Power':
      return a && b && args.length === 2 ? (point) => a(point) ** b(point) : undefined;
    case 'Root':
      return a && b && args.length === 2 ? (point) => a(point) ** (1 / b(point)) : undefined;
    case 'Log':
      // CE: ["Log", x, base]; a one-argument Log's base is left to compute-engine
      return a && b && args.length === 2 ? (point) => Math.log(a(point)) / Math.log(b(point)) : undefined;
    case 'Delimiter':
      return a && args.length === 1 ? a : undefined;
    default:
      return undefined;
  }
}
