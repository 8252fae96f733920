/**
 * Retry rules for model endpoints, after the split promptfoo makes (reliability.md §3): rate
 * limited (429: wait the server's hint, halve concurrency), transient (408/409/5xx/524, resets,
 * timeouts, HTML or truncated bodies: jittered exponential backoff) and permanent (400/401/403/
 * 404/422: never retried, recorded as an API error and never scored).
 */
export type FailureKind = 'rate-limited' | 'transient' | 'permanent' | 'aborted';

const TRANSIENT_STATUS = new Set([408, 409, 500, 502, 503, 504, 520, 522, 524, 529]);

/** Classify an HTTP status (undefined = no response at all: connection reset, timeout, bad body). */
export function classifyStatus(status: number | undefined): FailureKind {
  if (status === undefined) return 'transient';
  if (status === 429) return 'rate-limited';
  if (TRANSIENT_STATUS.has(status) || status >= 500) return 'transient';
  return 'permanent';
}

/** Parse an OpenAI-style duration such as `6m0s`, `1.5s`, `20ms` or `1h2m3.5s` into milliseconds. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const pattern = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(pattern)) {
    const value = Number(match[1]);
    const unit = match[2];
    total += unit === 'h' ? value * 3_600_000 : unit === 'm' ? value * 60_000 : unit === 's' ? value * 1000 : value;
    consumed += match[0].length;
  }
  return consumed === trimmed.length && consumed > 0 ? total : undefined;
}

/**
 * The wait a server asks for, in ms, from every header style seen in the wild: `retry-after-ms`
 * (OpenAI, Azure), `Retry-After` in seconds or as an HTTP date (RFC 9110 §10.2.3), and
 * `x-ratelimit-reset-requests` / `-tokens` durations (OpenAI). Undefined when there is no usable hint.
 */
export function retryAfterMs(headers: Headers | undefined, now: number = Date.now()): number | undefined {
  if (headers === undefined) return undefined;
  const hints: number[] = [];
  const ms = headers.get('retry-after-ms');
  if (ms !== null && Number.isFinite(Number(ms)) && Number(ms) >= 0) hints.push(Number(ms));
  const after = headers.get('retry-after');
  if (after !== null) {
    if (/^\s*\d+(\.\d+)?\s*$/.test(after)) hints.push(Number(after) * 1000);
    else {
      const date = Date.parse(after);
      if (!Number.isNaN(date)) hints.push(Math.max(0, date - now));
    }
  }
  for (const name of ['x-ratelimit-reset-requests', 'x-ratelimit-reset-tokens']) {
    const value = headers.get(name);
    const parsed = value === null ? undefined : parseDuration(value);
    if (parsed !== undefined) hints.push(parsed);
  }
  return hints.length === 0 ? undefined : Math.max(...hints);
}

export interface BackoffOptions {
  /** 0-based retry number */
  attempt: number;
  /** first delay scale in ms (default 500) */
  baseMs?: number;
  /** delay cap in ms (default 30 000) */
  capMs?: number;
  /** uniform [0, 1) source, injectable for tests */
  random?: () => number;
}

/** "Full jitter" exponential backoff (AWS architecture blog): uniform in [0, min(cap, base·2^attempt)]. */
export function backoffDelay({ attempt, baseMs = 500, capMs = 30_000, random = Math.random }: BackoffOptions): number {
  return random() * Math.min(capMs, baseMs * 2 ** attempt);
}
