/**
 * Python's notion of whitespace (`str.isspace`), which `str.strip()` and `str.split()` use. JS's
 * `trim()` differs (it strips U+FEFF, keeps U+001C–U+001F and U+0085), so LiveCodeBench's output
 * comparison needs the Python set to agree with the official judge.
 */
const PY_WHITESPACE = new Set(
  [
    0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003,
    0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
  ].map((code) => String.fromCharCode(code)),
);

export function isPythonSpace(char: string): boolean {
  return PY_WHITESPACE.has(char);
}

/** `str.strip()` with no arguments. */
export function pythonStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && PY_WHITESPACE.has(text[start] as string)) start += 1;
  while (end > start && PY_WHITESPACE.has(text[end - 1] as string)) end -= 1;
  return text.slice(start, end);
}

/** `str.split()` with no arguments: runs of whitespace separate, no empty tokens. */
export function pythonSplitWhitespace(text: string): string[] {
  const tokens: string[] = [];
  let current = '';
  for (const char of text) {
    if (PY_WHITESPACE.has(char)) {
      if (current !== '') tokens.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  if (current !== '') tokens.push(current);
  return tokens;
}
