import { expect } from 'vitest';

/**
 * Test helper (not exported from the package): central finite differences of `loss` with respect
 * to every entry of `x` that `include` accepts, in float64 with step 1e-6.
 */
export function finiteDifferences(x: Float64Array, loss: (perturbed: Float64Array) => number, include: (index: number) => boolean = () => true): Float64Array {
  const h = 1e-6;
  const gradient = new Float64Array(x.length);
  for (let index = 0; index < x.length; index++) {
    if (!include(index)) continue;
    const plus = Float64Array.from(x);
    const minus = Float64Array.from(x);
    plus[index] = (plus[index] as number) + h;
    minus[index] = (minus[index] as number) - h;
    gradient[index] = (loss(plus) - loss(minus)) / (2 * h);
  }
  return gradient;
}

/** Assert element-wise closeness, relative for large values and absolute below 1. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let index = 0; index < actual.length; index++) {
    const a = actual[index] as number;
    const e = expected[index] as number;
    expect(Math.abs(a - e), `index ${index}: ${a} vs ${e}`).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(e)));
  }
}
