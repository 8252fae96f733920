import { AipoError } from '../errors/aipo-error';
import type { FloatArray } from './float-array';

/**
 * Throw NON_FINITE_INPUT if a masked-in entry of `values` is NaN or ±Infinity. Masked-out positions
 * may hold anything (padding, -inf from top-k sampling): rl-frameworks.md §3.2 item 4.
 */
export function assertFiniteMasked(name: string, values: FloatArray, mask: Uint8Array, sequenceLength: number): void {
  for (let index = 0; index < values.length; index++) {
    if (mask[index] === 0) continue;
    const value = values[index] as number;
    if (!Number.isFinite(value)) throw nonFiniteError(name, index, value, sequenceLength);
  }
}

/** The error for a non-finite masked-in value at flat index `index` of a [B,T] array. */
export function nonFiniteError(name: string, index: number, value: number, sequenceLength: number): AipoError {
  const row = sequenceLength > 0 ? Math.floor(index / sequenceLength) : 0;
  const column = sequenceLength > 0 ? index - row * sequenceLength : index;
  return new AipoError({
    code: 'NON_FINITE_INPUT',
    message: `${name}[${row},${column}] is ${value} at a masked-in position (mask it out first, e.g. with maskNonFiniteLogProbs)`,
    details: { name, row, column, value },
  });
}

/** Throw NON_FINITE_INPUT unless every entry of a per-sequence array is finite. */
export function assertFiniteAll(name: string, values: FloatArray): void {
  for (let index = 0; index < values.length; index++) {
    const value = values[index] as number;
    if (!Number.isFinite(value)) {
      throw new AipoError({
        code: 'NON_FINITE_INPUT',
        message: `${name}[${index}] is ${value}`,
        details: { name, index, value },
      });
    }
  }
}

/** Throw INVALID_ARGUMENT unless `value` is a finite number satisfying `check`. */
export function assertNumber(
  name: string,
  value: number,
  check: (value: number) => boolean,
  expectation: string,
): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || !check(value)) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `${name} must be ${expectation} (got ${String(value)})`,
      details: { name, value },
    });
  }
}
