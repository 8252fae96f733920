import { describe, expect, it } from 'vitest';
import { AipoError, choice, createRng, normal, randomInt, shuffle, uniform } from '../index';
import { rngFromState } from './create-rng';

describe('createRng (xoshiro128**)', () => {
  it('matches the reference xoshiro128** stream from state [1, 2, 3, 4] (hand-stepped)', () => {
    const rng = rngFromState(0, [1, 2, 3, 4]);
    // out1 = rotl(2*5, 7)*9; the state then becomes [7, 0, 1026, 12288], so out2 = 0;
    // then [12295, 1029, 1029, 25165824], so out3 = rotl(1029*5, 7)*9.
    expect([rng.nextUint32(), rng.nextUint32(), rng.nextUint32()]).toEqual([11520, 0, 5927040]);
  });

  it('is deterministic per seed, differs across seeds, and clone continues the same stream', () => {
    const a = createRng(42);
    const b = createRng(42);
    const first = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(first);
    const c = createRng(43);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(first);
    const twin = a.clone();
    expect(twin.next()).toBe(a.next());
  });

  it('draws uniforms in [0, 1) with the right mean and variance', () => {
    const rng = createRng(7);
    let sum = 0;
    let squares = 0;
    let outside = 0;
    const count = 100_000;
    for (let i = 0; i < count; i++) {
      const u = rng.next();
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
      squares += u * u;
    }
    const mean = sum / count;
    expect(outside).toBe(0);
    expect(mean).toBeCloseTo(0.5, 2);
    expect(squares / count - mean * mean).toBeCloseTo(1 / 12, 2);
  });

  it('rejects a non-integer seed with INVALID_ARGUMENT', () => {
    expect(() => createRng(1.5)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => createRng(Number.NaN)).toThrow(AipoError);
  });
});

describe('sampling helpers', () => {
  it('uniform honours its range and randomInt covers [0, n) evenly', () => {
    const rng = createRng(1);
    for (let i = 0; i < 1000; i++) {
      const value = uniform(rng, { low: -2, high: 3 });
      expect(value >= -2 && value < 3).toBe(true);
    }
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[randomInt(rng, 6)]! += 1;
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });

  it('normal has the requested mean and std', () => {
    const rng = createRng(3);
    const draws = Array.from({ length: 50_000 }, () => normal(rng, { mean: 2, std: 3 }));
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    const variance = draws.reduce((a, b) => a + (b - mean) ** 2, 0) / draws.length;
    expect(mean).toBeCloseTo(2, 1);
    expect(Math.sqrt(variance)).toBeCloseTo(3, 1);
  });

  it('shuffle returns a permutation without mutating its input; choice picks members', () => {
    const rng = createRng(5);
    const items = [1, 2, 3, 4, 5, 6, 7, 8];
    const shuffled = shuffle(rng, items);
    expect(items).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
    expect(shuffled).not.toEqual(items);
    expect(items).toContain(choice(rng, items));
    // every position is equally likely to receive the first item
    const firstAt = new Array<number>(4).fill(0);
    for (let i = 0; i < 40_000; i++) firstAt[shuffle(rng, [0, 1, 2, 3]).indexOf(0)]! += 1;
    for (const count of firstAt) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });

  it('rejects bad arguments with codes', () => {
    const rng = createRng(0);
    expect(() => choice(rng, [])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => randomInt(rng, 0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => uniform(rng, { low: 1, high: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => normal(rng, { std: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
