import { AipoError } from '../errors/aipo-error';

/**
 * A seeded pseudo-random source. Every stochastic function in aipo takes one, so runs are
 * reproducible from a seed (aesthetics §5.3 rule 14).
 */
export interface Rng {
  /** the seed this generator started from */
  readonly seed: number;
  /** a uniform float in [0, 1) with 32 bits of randomness */
  next(): number;
  /** a uniform unsigned 32-bit integer */
  nextUint32(): number;
  /** an independent copy in the current state (same future stream) */
  clone(): Rng;
}

/**
 * xoshiro128** (Blackman & Vigna 2018, https://prng.di.unimi.it/): 128-bit state, period 2^128 − 1,
 * passes BigCrush, and needs only 32-bit integer ops, which JavaScript does natively through `| 0`
 * and `Math.imul`. The state is expanded from the seed with splitmix32 so that nearby seeds
 * (0, 1, 2, …) give unrelated streams and the state is never all zero.
 */
export function createRng(seed: number): Rng {
  if (!Number.isInteger(seed)) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `rng seed must be an integer (got ${seed})`, details: { seed } });
  }
  let x = seed >>> 0;
  const splitmix32 = (): number => {
    x = (x + 0x9e3779b9) | 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
  return rngFromState(seed, [splitmix32(), splitmix32(), splitmix32(), splitmix32()]);
}

/** Restore a generator from a raw xoshiro128** state (four uint32 words); used by `clone` and tests. */
export function rngFromState(seed: number, initial: readonly number[]): Rng {
  let [s0 = 0, s1 = 0, s2 = 0, s3 = 0] = initial;
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };
  return {
    seed,
    nextUint32,
    next: () => nextUint32() / 4294967296,
    clone: () => rngFromState(seed, [s0, s1, s2, s3]),
  };
}

function rotl(value: number, shift: number): number {
  return (value << shift) | (value >>> (32 - shift));
}
