import { extractLastBoxed } from './extract-boxed';

/**
 * What of an agent's reply goes into the trajectory:
 * - `full`: the whole reply, trimmed;
 * - `boxed`: only the last `\boxed{}` content, else the last `fallbackChars` characters (the AIPO
 *   prototype's rule, algorithms.md §1.3: 200 characters);
 * - `verdict`: `correct` / `incorrect` plus the stated error when there is one (Verify Agent).
 */
export type ReplyExtraction = 'full' | 'boxed' | 'verdict';

export interface ExtractReplyOptions {
  /** extraction mode */
  mode: ReplyExtraction;
  /** characters kept when a boxed answer or a verdict is missing (default 200, prototype) */
  fallbackChars?: number;
}

export function extractReply(text: string, options: ExtractReplyOptions): string {
  const fallbackChars = options.fallbackChars ?? 200;
  const trimmed = text.trim();
  const tail = () => trimmed.slice(Math.max(0, trimmed.length - fallbackChars));
  switch (options.mode) {
    case 'full':
      return trimmed;
    case 'boxed':
      return extractLastBoxed(trimmed)?.trim() ?? tail();
    case 'verdict': {
      const verdict = parseVerdict(trimmed);
      if (verdict === undefined) return tail();
      return verdict.error ? `${verdict.verdict}: ${verdict.error}` : verdict.verdict;
    }
  }
}

/** Read `Verdict: correct|incorrect` (or a boxed verdict) and an optional `Error: …` line. */
export function parseVerdict(text: string): { verdict: 'correct' | 'incorrect'; error?: string } | undefined {
  const source = extractLastBoxed(text) ?? text;
  const match = /\bverdict\s*:\s*(correct|incorrect)\b/i.exec(source) ?? /^\s*(correct|incorrect)\b/i.exec(source);
  if (!match) return undefined;
  const verdict = (match[1] as string).toLowerCase() as 'correct' | 'incorrect';
  const error = /\berror\s*:\s*(.+)/i.exec(text)?.[1]?.trim();
  return verdict === 'incorrect' && error ? { verdict, error } : { verdict };
}
