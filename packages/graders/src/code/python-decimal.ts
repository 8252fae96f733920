/**
 * Python `decimal.Decimal(str)` parsing and `==`, for LiveCodeBench's token comparison
 * (`convert_line_to_decimals` in lcb_runner/evaluation/testing_util.py). Decimal equality is exact
 * (no tolerance): `1.0 == 1`, `1e3 == 1000`, `0.50 == 0.5`, but `0.333333 != 0.3333333`.
 * CPython's parser drops every `_`, accepts any Unicode decimal digit, `Inf`/`Infinity`/`NaN`/`sNaN`
 * in any case; NaN never compares equal (and sNaN raises in CPython, which fails the line too).
 */
export type PythonDecimal =
  | { kind: 'finite'; negative: boolean; digits: string; exponent: bigint }
  | { kind: 'infinity'; negative: boolean }
  | { kind: 'nan' };

const ND = /\p{Nd}/u;

/** Value of a Unicode decimal digit: Nd digits come in contiguous runs of ten starting at zero. */
function digitValue(char: string): number {
  const code = char.codePointAt(0) as number;
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  let start = code;
  while (ND.test(String.fromCodePoint(start - 1))) start -= 1;
  return (code - start) % 10;
}

function asciiDigits(text: string): string | undefined {
  let result = '';
  for (const char of text) {
    if (char >= '0' && char <= '9') result += char;
    else if (ND.test(char)) result += String(digitValue(char));
    else if (char === '.' || char === 'e' || char === 'E' || char === '+' || char === '-') result += char;
    else if (/^[a-zA-Z]$/.test(char)) result += char;
    else return undefined;
  }
  return result;
}

const NUMBER = /^([+-])?(?=\d|\.\d)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const SPECIAL = /^([+-])?(inf|infinity|s?nan\d*)$/i;

/** Parse like `Decimal(text)`; undefined where CPython raises InvalidOperation. */
export function parsePythonDecimal(text: string): PythonDecimal | undefined {
  const normalized = asciiDigits(text.replaceAll('_', ''));
  if (normalized === undefined || normalized === '') return undefined;
  const special = SPECIAL.exec(normalized);
  if (special) {
    const word = (special[2] as string).toLowerCase();
    return word.startsWith('inf') ? { kind: 'infinity', negative: special[1] === '-' } : { kind: 'nan' };
  }
  const match = NUMBER.exec(normalized);
  if (!match) return undefined;
  const integer = match[2] ?? '';
  const fraction = match[3] ?? '';
  let exponent = BigInt(match[4] ?? '0') - BigInt(fraction.length);
  let digits = (integer + fraction).replace(/^0+/, '');
  const trimmed = digits.replace(/0+$/, '');
  exponent += BigInt(digits.length - trimmed.length);
  digits = trimmed;
  // every zero is equal to every other zero, whatever its sign or exponent
  if (digits === '') return { kind: 'finite', negative: false, digits: '', exponent: 0n };
  return { kind: 'finite', negative: match[1] === '-', digits, exponent };
}

/** `Decimal(a) == Decimal(b)` for parsed values. */
export function pythonDecimalEquals(left: PythonDecimal, right: PythonDecimal): boolean {
  if (left.kind === 'nan' || right.kind === 'nan') return false;
  if (left.kind === 'infinity' || right.kind === 'infinity') {
    return left.kind === right.kind && left.negative === right.negative;
  }
  return left.negative === right.negative && left.digits === right.digits && left.exponent === right.exponent;
}
