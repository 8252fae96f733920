/**
 * The fast path of the math grader: plain integers, decimals, fractions and percentages are parsed
 * here as exact BigInt rationals, so the CAS worker is only used for real expressions. Exact
 * arithmetic also keeps `9007199254740993` ≠ `9007199254740992` (reliability.md §4.1 M10), which
 * JS numbers would call equal.
 */
export interface PlainNumber {
  /** numerator (sign carried here) */
  numerator: bigint;
  /** denominator, always positive */
  denominator: bigint;
  /** written with a decimal point: compared with Math-Verify's 6-decimal rounding, not exactly */
  decimal: boolean;
}

// digit cap: BigInt is exact but `10^{…}`-sized literals are left to the guarded CAS path
const MAX_DIGITS = 400;
const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;
const LATEX_FRACTION = /^([+-]?)\\frac\{([+-]?[\d.]+)\}\{([+-]?[\d.]+)\}$/;
const SLASH_FRACTION = /^([+-]?[\d.]+)\/([+-]?[\d.]+)$/;

function parseDecimal(text: string): PlainNumber | undefined {
  const match = DECIMAL.exec(text);
  if (match === null) return undefined;
  const [, sign = '', whole = '', fraction] = match;
  if (whole === '' && (fraction === undefined || fraction === '')) return undefined;
  if (whole.length + (fraction?.length ?? 0) > MAX_DIGITS) return undefined;
  const digits = BigInt(`${whole || '0'}${fraction ?? ''}`);
  return {
    numerator: sign === '-' ? -digits : digits,
    denominator: 10n ** BigInt(fraction?.length ?? 0),
    decimal: fraction !== undefined,
  };
}

function divide(top: PlainNumber, bottom: PlainNumber): PlainNumber | undefined {
  if (bottom.numerator === 0n) return undefined;
  const numerator = top.numerator * bottom.denominator;
  const denominator = top.denominator * bottom.numerator;
  const sign = denominator < 0n ? -1n : 1n;
  return { numerator: numerator * sign, denominator: denominator * sign, decimal: top.decimal || bottom.decimal };
}

/** Parses `25`, `025`, `-3.50`, `.5`, `\frac{3}{4}`, `-\frac{3}{4}`, `3/4`, `12.5\%`; undefined otherwise. */
export function parsePlainNumber(text: string): PlainNumber | undefined {
  let body = text.replace(/\s+/g, '');
  let percent = false;
  if (body.endsWith('\\%')) {
    percent = true;
    body = body.slice(0, -2);
  }
  let value: PlainNumber | undefined;
  const latex = LATEX_FRACTION.exec(body);
  const slash = latex === null ? SLASH_FRACTION.exec(body) : null;
  if (latex !== null) {
    const top = parseDecimal(latex[2] ?? '');
    const bottom = parseDecimal(latex[3] ?? '');
    value = top && bottom ? divide(top, bottom) : undefined;
    if (value !== undefined && latex[1] === '-') value = { ...value, numerator: -value.numerator };
  } else if (slash !== null) {
    const top = parseDecimal(slash[1] ?? '');
    const bottom = parseDecimal(slash[2] ?? '');
    value = top && bottom ? divide(top, bottom) : undefined;
  } else {
    value = parseDecimal(body);
  }
  if (value === undefined || !percent) return value;
  // Math-Verify reads X% as X/100, so 28% ≠ 28 (eval.md §2.1, §2.6)
  return { ...value, denominator: value.denominator * 100n };
}

function roundScaled(value: PlainNumber, decimals: number): bigint {
  // round half away from zero of value·10^decimals, in exact integer arithmetic
  const scaled = value.numerator * 10n ** BigInt(decimals);
  const twice = (2n * (scaled < 0n ? -scaled : scaled) + value.denominator) / (2n * value.denominator);
  return scaled < 0n ? -twice : twice;
}

/**
 * Equality of two plain numbers: exact rationals when both are exact (so unreduced `2/4` = `1/2`,
 * like Math-Verify and Qwen), Math-Verify's absolute rounding to `floatRounding` decimals when
 * either was written as a decimal (1/3 = 0.333333, 1/3 ≠ 0.33).
 */
export function plainNumbersEqual(a: PlainNumber, b: PlainNumber, floatRounding: number): boolean {
  if (!a.decimal && !b.decimal) return a.numerator * b.denominator === b.numerator * a.denominator;
  return roundScaled(a, floatRounding) === roundScaled(b, floatRounding);
}
