import { createRng, type Rng } from '@aipo/core';

/**
 * A generator per (seed, stream, step): resuming at step s needs no saved RNG state, and the
 * recipes of one demo draw the same prompts at the same step when they share a seed.
 */
export function stepRng(options: { seed: number; stream: number; step: number }): Rng {
  const { seed, stream, step } = options;
  return createRng((Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b) ^ Math.imul(step + 1, 0xc2b2ae35)) >>> 0);
}

/** Stream ids (one per consumer of randomness). */
export const RNG_STREAM = { prompts: 0, rollouts: 1, minibatches: 2, evaluation: 3, warmup: 4, peer: 5 } as const;
