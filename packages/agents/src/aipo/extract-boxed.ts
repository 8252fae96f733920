/**
 * The content of the last `\boxed{…}` (or `\fbox{…}`) in `text`, found with a linear brace
 * scanner (no regex backtracking, no recursion), so unbalanced or deeply nested input cannot hang
 * or overflow (reliability.md §4, M5/M6). Returns undefined when no box is closed.
 */
export function extractLastBoxed(text: string): string | undefined {
  let result: string | undefined;
  let searchFrom = 0;
  for (;;) {
    const boxed = text.indexOf('\\boxed', searchFrom);
    const fbox = text.indexOf('\\fbox', searchFrom);
    const start = boxed < 0 ? fbox : fbox < 0 ? boxed : Math.min(boxed, fbox);
    if (start < 0) return result;
    const open = text.indexOf('{', start);
    if (open < 0) return result;
    // only whitespace may sit between the command and its brace
    if (text.slice(start + (start === boxed ? 6 : 5), open).trim() !== '') {
      searchFrom = start + 1;
      continue;
    }
    let depth = 0;
    let close = -1;
    for (let index = open; index < text.length; index++) {
      const char = text[index];
      if (char === '\\') {
        index++;
        continue;
      }
      if (char === '{') depth++;
      else if (char === '}' && --depth === 0) {
        close = index;
        break;
      }
    }
    if (close < 0) return result;
    result = text.slice(open + 1, close);
    searchFrom = close + 1;
  }
}
