import { expect } from 'vitest';
import { AipoError } from '../../errors/aipo-error';

/** Test helper: run `run`, assert it throws an AipoError with `code`, and return the error. */
export function expectAipoError(run: () => unknown, code: string): AipoError {
  try {
    run();
  } catch (error) {
    expect(AipoError.isInstance(error)).toBe(true);
    expect((error as AipoError).code).toBe(code);
    return error as AipoError;
  }
  throw new Error(`expected an AipoError with code ${code}`);
}

/** Test helper: the code of the AipoError `run` throws, 'not an AipoError', or 'no error'. */
export function errorCodeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return AipoError.isInstance(error) ? error.code : 'not an AipoError';
  }
  return 'no error';
}
