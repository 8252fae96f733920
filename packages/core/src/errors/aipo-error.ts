import type { ErrorCode } from './error-codes';

const MARKER = Symbol.for('aipo.error');

export interface AipoErrorOptions {
  /** stable machine-readable code from ERROR_CODES */
  code: ErrorCode;
  /** human-readable explanation, saying what to do about it where possible */
  message: string;
  /** the underlying error, if any */
  cause?: unknown;
  /** structured context (shape, index, file, line, ...) */
  details?: Record<string, unknown>;
}

/**
 * The one error class of aipo. Recognised across duplicate installs through a `Symbol.for`
 * marker (`AipoError.isInstance`), like vercel/ai's errors; codes come from one table (tRPC).
 */
export class AipoError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: read through the symbol in isInstance
  private readonly [MARKER] = true;

  constructor({ code, message, cause, details }: AipoErrorOptions) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'AipoError';
    this.code = code;
    this.details = details;
  }

  static isInstance(error: unknown): error is AipoError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** Normalise anything caught into an AipoError (non-aipo errors become INTERNAL with the cause kept). */
export function toAipoError(error: unknown, code: ErrorCode = 'INTERNAL'): AipoError {
  if (AipoError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new AipoError({ code, message, cause: error });
}
