/**
 * Canonical text for a math answer, before any comparison (eval.md §2.6 "MATH500: normalize";
 * rules taken from Math-Verify's `normalize_latex`, Qwen2.5-Math's `strip_string` and PRM800K).
 * Every pattern is linear (no nested quantifiers), so a hostile string cannot stall it (M7).
 */

// U+0660–0669 Arabic-Indic and U+06F0–06F9 Extended Arabic-Indic digits: NFKC leaves them alone,
// Python's int() accepts them (reliability.md §4.1 M9), so map them explicitly.
function asciiDigits(text: string): string {
  return text.replace(/[\u0660-\u0669\u06F0-\u06F9]/g, (digit) => String((digit.charCodeAt(0) - 0x0660) % 0x90));
}

// Unit words stripped after a number (subset of Math-Verify's ~150 and Minerva's REMOVED_EXPRESSIONS).
const UNIT_WORDS = new Set(
  (
    'unit units cm centimeter centimeters m meter meters metre metres km kilometer kilometers mm millimeter millimeters ' +
    'g gm gram grams kg kilogram kilograms mg lb lbs pound pounds oz ounce ounces ton tons ' +
    'in inch inches ft foot feet yd yard yards mi mile miles mph ' +
    's sec second seconds min minute minutes h hr hrs hour hours day days week weeks month months year years ' +
    'degree degrees deg radian radians ° dollar dollars cent cents euro euros ' +
    'square sq cubic liter liters litre litres ml gallon gallons ' +
    'student students people person persons ways way times point points digit digits integers ' +
    'child children tickets edges meals sides marbles balls cookies apples'
  ).split(' '),
);

/**
 * Strips up to two trailing unit words (`5 cm`, `6 square feet`) after a value. One-letter units
 * (`m`, `g`, `s`, `h`) need a space before them, so a variable in `4m` is never eaten.
 */
function stripTrailingUnits(text: string): string {
  let result = text;
  for (let round = 0; round < 2; round++) {
    const match = /([a-zA-Z]+)(?:\^\{?[23]\}?)?$/.exec(result.slice(-40));
    const word = match?.[1];
    if (match === null || word === undefined || !UNIT_WORDS.has(word.toLowerCase())) break;
    const before = result.slice(0, result.length - match[0].length);
    if (before.endsWith('\\') || (word.length === 1 && !before.endsWith(' '))) break;
    result = before.trimEnd();
  }
  // only a value followed by units loses them: `6 square feet` → `6`, but `x feet` stays
  return result !== text && /\d/.test(result) && /[\d}]$/.test(result) ? result : text;
}

/** Removes `\text{…}`/`\mbox{…}` (optionally `^2`) at the end when it follows a value: a unit. */
function stripTrailingTextUnit(text: string): string {
  const match = /\\(?:text|mbox)\{([^{}]*)\}(?:\^\{?[23]\}?)?$/.exec(text);
  if (match === null) return text;
  const before = text.slice(0, match.index).trimEnd();
  if (before === '' || !/[\d}a-zA-Z)]$/.test(before)) return text;
  return before;
}

// `\\` (a matrix row break) is matched first so its second backslash is never read as `\ `
const SPACING = /\\\\|\\(?:[,;: ]|quad|qquad|displaystyle|textstyle|scriptstyle)(?![a-zA-Z])/g;
const DELIMITER_SIZES = /\\(?:left|right|big|Big|bigg|Bigg)(?:l|r)?(?![a-zA-Z])\s*/g;

/** Normalises a LaTeX or plain answer string; see the file comment for the rules and their sources. */
export function normalizeLatex(input: string): string {
  let text = asciiDigits(input.normalize('NFKC'));
  text = text
    .replace(/[\u200B-\u200F\u202A-\u202E\u2060-\u2064\uFEFF]/g, '') // zero-width and bidi controls
    .replace(/[\u2212\u2012\u2013\u2014]/g, '-') // U+2212 minus and dashes
    .replace(/\s+/g, ' ')
    .trim();

  text = text
    .replace(/\\[dtc]frac/g, '\\frac')
    .replace(/\\(?:mathrm|mathit|mathbf|textnormal|textbf|textit|textrm|operatorname)\{/g, '\\text{')
    .replace(/\\boldsymbol\{/g, '{')
    .replace(DELIMITER_SIZES, '')
    // `,\!` is LaTeX's thousands separator (MATH writes `11,\! 111,\! 100`); a bare `\!` is removed
    .replace(/,?\\!\s*/g, (match) => (match.startsWith(',') ? ',' : ''))
    .replace(SPACING, (match) => (match === '\\\\' ? match : ' '))
    .replace(/\{,\}/g, '')
    .replace(/\\\$/g, '')
    .replace(/\$/g, '')
    .replace(/\\[()[\]]/g, '')
    .replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|\\degree|°/g, '')
    .replace(/\\text\{\s*\}/g, '')
    .replace(/\\(?:ldots|cdots|dots)/g, '\\ldots')
    .replace(/\\(?:varnothing)/g, '\\emptyset')
    .replace(/\\(?:neq)(?![a-zA-Z])/g, '\\ne')
    .replace(/\\(?:leq|leqslant)(?![a-zA-Z])/g, '\\le')
    .replace(/\\(?:geq|geqslant)(?![a-zA-Z])/g, '\\ge')
    .replace(/\\begin\{(?:bmatrix|Bmatrix|matrix|smallmatrix)\}/g, '\\begin{pmatrix}')
    .replace(/\\end\{(?:bmatrix|Bmatrix|matrix|smallmatrix)\}/g, '\\end{pmatrix}')
    .replace(/\\begin\{array\}\{[lcr|]*\}/g, '\\begin{pmatrix}')
    .replace(/\\end\{array\}/g, '\\end{pmatrix}')
    // malformed operators: \frac12, \frac1{x}, \frac{x}2, \sqrt3 (Math-Verify `malformed_operators`)
    .replace(/\\frac\s*(\d)\s*(\d)/g, '\\frac{$1}{$2}')
    .replace(/\\frac\s*(\d)\s*\{/g, '\\frac{$1}{')
    .replace(/\\frac\{([^{}]*)\}\s*(\d)/g, '\\frac{$1}{$2}')
    // a mixed number `4\frac23` is 4 + 2/3, as Math-Verify reads it (not 4·2/3)
    .replace(/(^|[^\d.}^_])(\d+)\s*\\frac\{(\d+)\}\{(\d+)\}/g, '$1($2+\\frac{$3}{$4})')
    .replace(/\\sqrt\s*(\d)/g, '\\sqrt{$1}')
    .replace(/\\sqrt\s*\\/g, '\\sqrt\\')
    .replace(/(^|[^\d])\.(\d)/g, (_match, before: string, digit: string) => `${before}0.${digit}`) // `.5` → `0.5`
    .replace(/\s*\\%|\s*%/g, '\\%')
    .replace(/\b(?:infinity|inf)\b/gi, '\\infty')
    .replace(/\\text\{\s*(?:and|or)\s*\}|\s+(?:and|or)\s+/g, ', ')
    .trim();

  text = stripTrailingTextUnit(text);
  text = stripTrailingUnits(text);
  text = text.replace(/[.\s]+$/, '').replace(/^[:\s]+/, '');

  // thousands separators only when the whole answer is one grouped number: `32, 349` stays a list
  if (/^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(text)) text = text.replace(/,/g, '');
  // a choice letter written as `(C)` or `\text{(C)}`
  const choice = /^(?:\\text\{)?\(([A-Ea-e])\)\}?$/.exec(text);
  if (choice?.[1] !== undefined) text = choice[1].toUpperCase();
  return text.replace(/\s+/g, ' ').trim();
}

/** Whitespace-free form used for the string-equality fast path. */
export function compactLatex(normalized: string): string {
  return normalized.replace(/\s+/g, '').replace(/\\text\{([^{}]*)\}/g, '$1');
}
