import { AipoError } from '@aipo/core';

/**
 * A Python value as far as `==` on LiveCodeBench results can tell: what `json.loads` produces for the
 * expected output, plus what a solution returns (tuples, non-string dict keys, other objects). Ints
 * are bigints so `9007199254740993` stays distinct from `9007199254740992` (reliability.md M10).
 */
export type PythonValue =
  | { kind: 'none' }
  | { kind: 'bool'; value: boolean }
  | { kind: 'int'; value: bigint }
  | { kind: 'float'; value: number }
  | { kind: 'str'; value: string }
  | { kind: 'list'; items: PythonValue[] }
  | { kind: 'tuple'; items: PythonValue[] }
  | { kind: 'dict'; entries: Array<[PythonValue, PythonValue]> }
  /** any other object: a custom class, a set, a generator; never equal to a JSON value */
  | { kind: 'other'; typeName: string };

function numeric(value: PythonValue): { int: bigint } | { float: number } | undefined {
  if (value.kind === 'bool') return { int: value.value ? 1n : 0n };
  if (value.kind === 'int') return { int: value.value };
  if (value.kind === 'float') return { float: value.value };
  return undefined;
}

function numericEquals(left: { int: bigint } | { float: number }, right: { int: bigint } | { float: number }): boolean {
  if ('int' in left && 'int' in right) return left.int === right.int;
  if ('float' in left && 'float' in right) return left.float === right.float;
  const integer = 'int' in left ? left.int : (right as { int: bigint }).int;
  const float = 'float' in left ? left.float : (right as { float: number }).float;
  return Number.isInteger(float) && BigInt(float) === integer;
}

/** Key under which Python's dict would find a hashable primitive (1, 1.0 and True are one key). */
function hashKey(value: PythonValue): string | undefined {
  const number = numeric(value);
  if (number !== undefined) {
    if ('int' in number) return `n:${number.int}`;
    return Number.isInteger(number.float) ? `n:${BigInt(number.float)}` : `f:${number.float}`;
  }
  if (value.kind === 'str') return `s:${value.value}`;
  if (value.kind === 'none') return 'none';
  return undefined;
}

/** Python `left == right` for the value kinds above (NaN is never equal, list ≠ tuple). */
export function pythonEquals(left: PythonValue, right: PythonValue): boolean {
  const leftNumber = numeric(left);
  const rightNumber = numeric(right);
  if (leftNumber !== undefined || rightNumber !== undefined) {
    return leftNumber !== undefined && rightNumber !== undefined && numericEquals(leftNumber, rightNumber);
  }
  switch (left.kind) {
    case 'none':
      return right.kind === 'none';
    case 'str':
      return right.kind === 'str' && right.value === left.value;
    case 'list':
    case 'tuple':
      return (
        right.kind === left.kind &&
        right.items.length === left.items.length &&
        left.items.every((item, index) => pythonEquals(item, right.items[index] as PythonValue))
      );
    case 'dict':
      return right.kind === 'dict' && dictEquals(left.entries, right.entries);
    default:
      return false;
  }
}

function dictEquals(left: Array<[PythonValue, PythonValue]>, right: Array<[PythonValue, PythonValue]>): boolean {
  const leftMap = toDict(left);
  const rightMap = toDict(right);
  if (leftMap.size !== rightMap.size) return false;
  for (const [key, [, value]] of leftMap) {
    const other = rightMap.get(key);
    if (other === undefined || !pythonEquals(value, other[1])) return false;
  }
  return true;
}

/** Later duplicates win, like a dict display; unhashable-looking keys fall back to their position. */
function toDict(entries: Array<[PythonValue, PythonValue]>): Map<string, [PythonValue, PythonValue]> {
  const map = new Map<string, [PythonValue, PythonValue]>();
  entries.forEach((entry, index) => {
    map.set(hashKey(entry[0]) ?? `#${index}:${JSON.stringify(describePythonValue(entry[0]))}`, entry);
  });
  return map;
}

/** A compact display form for reports (`[1, 2]`, `(1,)`, `{'a': 1}`). */
export function describePythonValue(value: PythonValue): string {
  switch (value.kind) {
    case 'none':
      return 'None';
    case 'bool':
      return value.value ? 'True' : 'False';
    case 'int':
      return value.value.toString();
    case 'float':
      return Number.isNaN(value.value)
        ? 'nan'
        : Number.isFinite(value.value)
          ? String(value.value)
          : value.value > 0
            ? 'inf'
            : '-inf';
    case 'str':
      return JSON.stringify(value.value);
    case 'list':
      return `[${value.items.map(describePythonValue).join(', ')}]`;
    case 'tuple':
      return `(${value.items.map(describePythonValue).join(', ')}${value.items.length === 1 ? ',' : ''})`;
    case 'dict':
      return `{${value.entries.map(([key, item]) => `${describePythonValue(key)}: ${describePythonValue(item)}`).join(', ')}}`;
    default:
      return `<${value.typeName}>`;
  }
}

/**
 * The tagged JSON the in-sandbox runner emits for a returned value (see docker/runner-source.ts):
 * null/bool/str are JSON natives, `{"i": "123"}` int, `{"f": "1.5"}` float repr, arrays are lists,
 * `{"t": [...]}` tuple, `{"d": [[k, v], ...]}` dict, `{"o": "TypeName"}` anything else.
 */
export function decodeTaggedValue(tagged: unknown, depth = 0): PythonValue {
  if (depth > 10_000) throw invalid('value nested too deeply');
  if (tagged === null) return { kind: 'none' };
  if (typeof tagged === 'boolean') return { kind: 'bool', value: tagged };
  if (typeof tagged === 'string') return { kind: 'str', value: tagged };
  if (Array.isArray(tagged)) return { kind: 'list', items: tagged.map((item) => decodeTaggedValue(item, depth + 1)) };
  if (typeof tagged === 'object') {
    const record = tagged as Record<string, unknown>;
    if (typeof record.i === 'string' && /^-?\d+$/.test(record.i)) return { kind: 'int', value: BigInt(record.i) };
    if (typeof record.f === 'string') return { kind: 'float', value: parsePythonFloatRepr(record.f) };
    if (Array.isArray(record.t))
      return { kind: 'tuple', items: record.t.map((item) => decodeTaggedValue(item, depth + 1)) };
    if (Array.isArray(record.d)) {
      return {
        kind: 'dict',
        entries: record.d.map((pair) => {
          if (!Array.isArray(pair) || pair.length !== 2) throw invalid('malformed dict entry');
          return [decodeTaggedValue(pair[0], depth + 1), decodeTaggedValue(pair[1], depth + 1)] as [
            PythonValue,
            PythonValue,
          ];
        }),
      };
    }
    if (typeof record.o === 'string') return { kind: 'other', typeName: record.o };
  }
  throw invalid('unknown tagged value');
}

function parsePythonFloatRepr(text: string): number {
  if (text === 'nan') return Number.NaN;
  if (text === 'inf') return Number.POSITIVE_INFINITY;
  if (text === '-inf') return Number.NEGATIVE_INFINITY;
  const value = Number(text);
  if (Number.isNaN(value)) throw invalid(`bad float repr ${text.slice(0, 40)}`);
  return value;
}

function invalid(message: string): AipoError {
  return new AipoError({ code: 'INVALID_ARGUMENT', message: `tagged Python value: ${message}` });
}
