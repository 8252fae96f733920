const OPENERS = new Set(['(', '[', '{']);
const CLOSERS = new Set([')', ']', '}']);

/**
 * Splits `text` on `separator` where it is outside every bracket (`()[]{}`, mixed kinds count alike
 * so `(0, 1]` stays whole). `1,-2` → two items; `(1,-2)` → one tuple.
 */
export function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text[index] ?? '';
    if (char === '\\') {
      // `\{ \}` are set brackets; any other escaped character is skipped
      const next = text[index + 1];
      if (next === '{') depth++;
      else if (next === '}') depth = Math.max(0, depth - 1);
      index++;
      continue;
    }
    if (OPENERS.has(char)) depth++;
    else if (CLOSERS.has(char)) depth = Math.max(0, depth - 1);
    else if (depth === 0 && text.startsWith(separator, index)) {
      parts.push(text.slice(from, index));
      from = index + separator.length;
    }
  }
  parts.push(text.slice(from));
  return parts.map((part) => part.trim());
}

/** Deepest bracket nesting of `text` (a guard: CAS parsers recurse per level, reliability.md §4.1 M5). */
export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (const char of text) {
    if (OPENERS.has(char)) max = Math.max(max, ++depth);
    else if (CLOSERS.has(char)) depth = Math.max(0, depth - 1);
  }
  return max;
}
