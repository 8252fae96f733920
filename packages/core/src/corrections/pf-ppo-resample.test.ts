import { describe, expect, it } from 'vitest';
import { expectAipoError } from '../batch/testing/expect-aipo-error';
import { createRng } from '../random/create-rng';
import { pfPpoResample } from './pf-ppo-resample';

describe('pfPpoResample (PF-PPO, verl use_pf_ppo)', () => {
  const rewards = Float64Array.from([1, -2, 0, 0.5, -2]);
  it('weights per method: |R|^p, max/min indicator, 0.4 / 0.1, all floored at 1e-8', () => {
    const pow = pfPpoResample({ rewards, rng: createRng(1) }).weights;
    expect(Array.from(pow)).toEqual([1, 4, 0, 0.25, 4].map((w) => w + 1e-8));
    const cube = pfPpoResample({ rewards, rng: createRng(1), power: 3 }).weights;
    expect(cube[1]).toBe(8 + 1e-8);
    const maxMin = pfPpoResample({ rewards, rng: createRng(1), method: 'max_min' }).weights;
    expect(Array.from(maxMin)).toEqual([1, 1, 0, 0, 1].map((w) => w + 1e-8));
    const maxRandom = pfPpoResample({ rewards, rng: createRng(1), method: 'max_random' }).weights;
    expect(Array.from(maxRandom)).toEqual([0.4, 0.1, 0.1, 0.1, 0.1].map((w) => w + 1e-8));
  });

  it('draws with replacement in proportion to the weights (20000 draws, fixed seed), deterministic per seed', () => {
    const draws = 20000;
    const { indices, weights } = pfPpoResample({ rewards, rng: createRng(7), sampleCount: draws });
    const counts = new Array(rewards.length).fill(0);
    for (const index of indices) counts[index]++;
    const total = weights.reduce((sum, w) => sum + w, 0);
    for (let row = 0; row < rewards.length; row++) {
      const p = (weights[row] as number) / total;
      // 5 binomial standard deviations
      expect(Math.abs(counts[row] / draws - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / draws) + 1e-9);
    }
    expect(counts[2]).toBe(0);
    const again = pfPpoResample({ rewards, rng: createRng(7), sampleCount: draws });
    expect(Array.from(again.indices)).toEqual(Array.from(indices));
    expect(pfPpoResample({ rewards, rng: createRng(1) }).indices.length).toBe(rewards.length);
  });

  it('all-zero rewards under pow stay drawable (uniform through the floor), never NaN', () => {
    const { indices } = pfPpoResample({ rewards: new Float64Array(4), rng: createRng(3), sampleCount: 400 });
    expect(new Set(indices).size).toBe(4);
  });

  it('bad input is a typed error', () => {
    expectAipoError(() => pfPpoResample({ rewards: Float64Array.from([1, Number.NaN]), rng: createRng(1) }), 'NON_FINITE_INPUT');
    expectAipoError(() => pfPpoResample({ rewards, rng: createRng(1), power: -1 }), 'INVALID_ARGUMENT');
    expectAipoError(() => pfPpoResample({ rewards, rng: createRng(1), sampleCount: 1.5 }), 'INVALID_ARGUMENT');
    expectAipoError(() => pfPpoResample({ rewards, rng: createRng(1), method: 'best' as never }), 'INVALID_ARGUMENT');
    expectAipoError(() => pfPpoResample({ rewards: new Float64Array(0), rng: createRng(1), sampleCount: 2 }), 'INVALID_ARGUMENT');
    expectAipoError(() => pfPpoResample({ rewards, rng: undefined as never }), 'INVALID_ARGUMENT');
  });
});
