import { AipoError } from '@aipo/core';

/** Settings for {@link retryWithBackoff}. */
export interface RetryOptions<T> {
  /** one attempt; receives the 0-based attempt index */
  run: (attempt: number) => Promise<T>;
  /** retries after the first attempt (total attempts = maxRetries + 1) */
  maxRetries: number;
  /** first backoff delay; doubles every retry (full jitter) */
  baseDelayMs: number;
  /** cap on any single wait, including server hints */
  maxDelayMs: number;
  /** whether a failure may be retried, and the server's wait hint in ms if it gave one */
  classify: (error: unknown) => { retryable: boolean; retryAfterMs?: number };
  /** cancels waiting and further attempts */
  signal?: AbortSignal;
  /** uniform [0,1) source for jitter; injectable for deterministic tests */
  random?: () => number;
  /** called before each wait (for logging / transcripts) */
  onRetry?: (event: { attempt: number; delayMs: number; error: unknown }) => void;
}

/**
 * Retry with full-jitter exponential backoff, preferring the server's Retry-After hint.
 * Policy from reliability.md §3: retry rate limits and transient errors only, bounded attempts,
 * capped waits; never retry 400/401/403/404/422.
 */
export async function retryWithBackoff<T>(options: RetryOptions<T>): Promise<{ value: T; attempts: number }> {
  const { run, maxRetries, baseDelayMs, maxDelayMs, classify, signal, random = Math.random, onRetry } = options;
  for (let attempt = 0; ; attempt++) {
    throwIfAborted(signal);
    try {
      return { value: await run(attempt), attempts: attempt + 1 };
    } catch (error) {
      const { retryable, retryAfterMs } = classify(error);
      if (!retryable || attempt >= maxRetries || signal?.aborted) throw error;
      const backoff = random() * Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
      const delayMs = Math.min(maxDelayMs, retryAfterMs ?? backoff);
      onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs, signal);
    }
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new AipoError({ code: 'ABORTED', message: 'the request was aborted', cause: signal.reason });
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AipoError({ code: 'ABORTED', message: 'aborted while waiting to retry', cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Parse `retry-after-ms`, then `Retry-After` (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(
  headers: { get(name: string): string | null } | undefined,
  now = Date.now(),
): number | undefined {
  if (headers === undefined) return undefined;
  const milliseconds = Number(headers.get('retry-after-ms'));
  if (headers.get('retry-after-ms') !== null && Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  const seconds = Number(value);
  if (value.trim() !== '' && Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}
