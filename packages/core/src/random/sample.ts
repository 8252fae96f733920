import { AipoError } from '../errors/aipo-error';
import type { Rng } from './create-rng';

/** A uniform float in [low, high). */
export function uniform(rng: Rng, range: { low?: number; high?: number } = {}): number {
  const { low = 0, high = 1 } = range;
  if (!Number.isFinite(low) || !Number.isFinite(high) || high < low) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `uniform needs finite low <= high (got ${low}, ${high})` });
  }
  return low + (high - low) * rng.next();
}

/** A uniform integer in [0, n), without modulo bias (rejection sampling on 32-bit draws). */
export function randomInt(rng: Rng, n: number): number {
  if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `randomInt needs an integer n in [1, 2^32] (got ${n})` });
  }
  // Reject the top partial block of the 2^32 range so every residue is equally likely.
  const limit = 2 ** 32 - (2 ** 32 % n);
  for (;;) {
    const draw = rng.nextUint32();
    if (draw < limit) return draw % n;
  }
}

/**
 * A normal draw by the Box–Muller transform. `1 − next()` lies in (0, 1], so the log is finite;
 * one of the two values Box–Muller yields is discarded to keep the generator stateless.
 */
export function normal(rng: Rng, parameters: { mean?: number; std?: number } = {}): number {
  const { mean = 0, std = 1 } = parameters;
  if (!Number.isFinite(mean) || !Number.isFinite(std) || std < 0) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `normal needs finite mean and std >= 0 (got ${mean}, ${std})` });
  }
  const u1 = 1 - rng.next();
  const u2 = rng.next();
  return mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** A shuffled copy (Fisher–Yates); the input is not mutated. */
export function shuffle<T>(rng: Rng, items: readonly T[]): T[] {
  const result = items.slice();
  for (let i = result.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const held = result[i] as T;
    result[i] = result[j] as T;
    result[j] = held;
  }
  return result;
}

/** One uniformly chosen element; an empty list is an error. */
export function choice<T>(rng: Rng, items: readonly T[]): T {
  if (items.length === 0) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'choice needs a non-empty list' });
  }
  return items[randomInt(rng, items.length)] as T;
}
