/** One `\boxed{…}` / `\fbox{…}` found in a text: its content and where it sits. */
export interface BoxedSpan {
  /** the content between the braces (or after `\boxed ` up to `$` / end of line when unbraced) */
  content: string;
  /** index of the backslash of `\boxed` */
  start: number;
  /** index just past the closing brace */
  end: number;
}

const BOX_COMMANDS = ['\\boxed', '\\fbox'] as const;

/**
 * Matching closing brace for every `{`, computed in one linear pass with an explicit stack.
 * A recursive or regex scanner is quadratic (or overflows the stack) on `\boxed{` × 100 000
 * (reliability.md §4.1 M5, M6); this never is.
 */
function matchBraces(text: string): Int32Array {
  const match = new Int32Array(text.length).fill(-1);
  const stack: number[] = [];
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (char === 92 /* \ */) {
      index++; // `\{` and `\}` are literal braces, not groups
    } else if (char === 123 /* { */) {
      stack.push(index);
    } else if (char === 125 /* } */) {
      const open = stack.pop();
      if (open !== undefined) match[open] = index;
    }
  }
  return match;
}

/** Every top-level box in reading order; unbalanced boxes are skipped, nested boxes are part of their parent. */
export function findBoxedSpans(text: string): BoxedSpan[] {
  const starts: Array<{ start: number; after: number }> = [];
  for (const command of BOX_COMMANDS) {
    for (let at = text.indexOf(command); at >= 0; at = text.indexOf(command, at + 1)) {
      const after = at + command.length;
      // `\boxedfoo` is another command; `\boxed{`, `\boxed {` and `\boxed 5` are boxes
      if (/[a-zA-Z]/.test(text[after] ?? '')) continue;
      starts.push({ start: at, after });
    }
  }
  starts.sort((a, b) => a.start - b.start);
  let braces: Int32Array | undefined;
  const spans: BoxedSpan[] = [];
  let cursor = 0;
  for (const { start, after } of starts) {
    if (start < cursor) continue;
    let open = after;
    while (text[open] === ' ') open++;
    if (text[open] === '{') {
      braces ??= matchBraces(text);
      const close = braces[open] ?? -1;
      if (close < 0) continue;
      spans.push({ content: text.slice(open + 1, close), start, end: close + 1 });
      cursor = close + 1;
    } else {
      // Qwen2.5-Math: an unbraced `\boxed 5` runs to the next `$` (or the end of the line)
      let stop = open;
      while (stop < text.length && text[stop] !== '$' && text[stop] !== '\n') stop++;
      const content = text.slice(open, stop).trim();
      if (content.length === 0) continue;
      spans.push({ content, start, end: stop });
      cursor = stop;
    }
  }
  return spans;
}

/** The content of the last balanced `\boxed{…}` or `\fbox{…}` in `text`, or undefined when there is none. */
export function extractBoxed(text: string): string | undefined {
  return findBoxedSpans(text).at(-1)?.content;
}
