import { AipoError } from '@aipo/core';
import OpenAI from 'openai';
import { parseRetryAfter } from './retry-with-backoff';

const RETRYABLE_STATUS = new Set([408, 409, 429, 500, 502, 503, 504, 524]);

/** Retry policy of reliability.md §3: rate limits, transient statuses and connection errors; never other 4xx. */
export function classifyOpenAIError(error: unknown): { retryable: boolean; retryAfterMs?: number } {
  if (error instanceof OpenAI.APIUserAbortError) return { retryable: false };
  if (error instanceof OpenAI.APIConnectionError) return { retryable: true };
  if (AipoError.isInstance(error)) return { retryable: error.code === 'TIMEOUT' };
  if (error instanceof OpenAI.APIError) {
    const status = error.status ?? 0;
    const retryAfterMs = parseRetryAfter(error.headers);
    return {
      retryable: RETRYABLE_STATUS.has(status) || status > 500,
      ...(retryAfterMs !== undefined && { retryAfterMs }),
    };
  }
  // Invalid JSON or a truncated body: transient in practice (reliability.md §3).
  return { retryable: error instanceof SyntaxError };
}

/** Normalise a failed call into an AipoError: ABORTED, TIMEOUT, or API_ERROR with the HTTP status. */
export function toModelError(
  error: unknown,
  context: { baseURL: string; model: string; signal: AbortSignal | undefined },
): AipoError {
  const where = `${context.model} at ${context.baseURL}`;
  if (AipoError.isInstance(error)) return error;
  if (error instanceof OpenAI.APIUserAbortError || context.signal?.aborted) {
    return new AipoError({ code: 'ABORTED', message: `request to ${where} was aborted`, cause: error });
  }
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return new AipoError({ code: 'TIMEOUT', message: `request to ${where} timed out`, cause: error });
  }
  const status = error instanceof OpenAI.APIError ? error.status : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return new AipoError({
    code: 'API_ERROR',
    message: `request to ${where} failed${status ? ` with HTTP ${status}` : ''}: ${message}`,
    cause: error,
    details: { status },
  });
}
