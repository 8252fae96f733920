import { describe, expect, it } from 'vitest';
import { calibrateRewards, chooseInteraction, createRng, fitRasch, irtProbability, normal } from '../index';

describe('calibrateRewards (ILR perception calibration, Eq. 5)', () => {
  it('matches a hand computation with two models', () => {
    // question 7: peer rewards [1, 0, 0, 1] → avg 0.5, range 1; clip bound 1/(m−1) = 1
    const calibrated = calibrateRewards({
      rewards: Float32Array.from([1, 0, 0.5]),
      groupIds: Int32Array.from([7, 7, 7]),
      peers: [{ rewards: Float32Array.from([1, 0, 0, 1]), groupIds: Int32Array.from([7, 7, 7, 7]) }],
    });
    expect([...calibrated]).toEqual([1.5, -0.5, 0.5]);
  });

  it('clips each peer term to ±1/(m−1) and sums over peers (m = 3)', () => {
    const calibrated = calibrateRewards({
      rewards: Float32Array.from([1, 0]),
      groupIds: Int32Array.from([0, 0]),
      peers: [
        { rewards: Float32Array.from([0, 0, 0.2]), groupIds: Int32Array.from([0, 0, 0]) }, // avg 1/15, range 0.2
        { rewards: Float32Array.from([1, 0.5]), groupIds: Int32Array.from([0, 0]) }, // avg 0.75, range 0.5
      ],
    });
    // sample 0: clip((1 − 1/15)/0.2) = 0.5, clip((1 − 0.75)/0.5) = 0.5 → 2
    // sample 1: clip((0 − 1/15)/0.2) = −1/3, clip(−0.75/0.5) = −0.5 → −5/6
    expect(calibrated[0]).toBeCloseTo(2, 6);
    expect(calibrated[1]).toBeCloseTo(-1 / 3 - 0.5, 6);
  });

  it('handles a zero peer range with the configured guard, and non-contiguous groups', () => {
    const options = {
      rewards: Float32Array.from([1, 0, 1]),
      groupIds: Int32Array.from([5, 2, 2]),
      peers: [{ rewards: Float32Array.from([1, 1, 0, 1]), groupIds: Int32Array.from([5, 5, 2, 2]) }],
    };
    // question 5: peer all 1 (range 0); question 2: avg 0.5, range 1
    expect([...calibrateRewards(options)]).toEqual([1, -0.5, 1.5]);
    const withEpsilon = calibrateRewards({ ...options, zeroRange: { epsilon: 0.5 } });
    expect(withEpsilon[0]).toBe(1); // (1 − 1)/0.5 = 0
    expect(withEpsilon[1]).toBeCloseTo(0 + -0.5 / 1.5, 6);
    const below = calibrateRewards({ ...options, rewards: Float32Array.from([0, 0, 1]), zeroRange: { epsilon: 0.5 } });
    expect(below[0]).toBe(-1); // (0 − 1)/0.5 = −2, clipped to −1
  });

  it('rejects NaN rewards, missing peer questions and bad settings with codes', () => {
    const peer = { rewards: Float32Array.from([1]), groupIds: Int32Array.from([0]) };
    expect(() => calibrateRewards({ rewards: Float32Array.from([Number.NaN]), groupIds: Int32Array.from([0]), peers: [peer] })).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
    expect(() => calibrateRewards({ rewards: Float32Array.from([1]), groupIds: Int32Array.from([3]), peers: [peer] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => calibrateRewards({ rewards: Float32Array.from([1]), groupIds: Int32Array.from([0]), peers: [] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => calibrateRewards({ rewards: Float32Array.from([1, 1]), groupIds: Int32Array.from([0]), peers: [peer] })).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    expect(() => calibrateRewards({ rewards: Float32Array.from([1]), groupIds: Int32Array.from([0]), peers: [peer], zeroRange: { epsilon: 0 } })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('IRT interaction rule', () => {
  it('computes P = σ(1.7(γ − D)) and cooperates below the threshold', () => {
    expect(irtProbability({ ability: 1, difficulty: 1 })).toBe(0.5);
    expect(irtProbability({ ability: 1, difficulty: 0 })).toBeCloseTo(1 / (1 + Math.exp(-1.7)), 15);
    expect(irtProbability({ ability: -800, difficulty: 0 })).toBe(0); // no overflow
    const hard = chooseInteraction({ ability: 0, difficulty: 1 });
    expect(hard.mode).toBe('cooperate');
    expect(hard.probability).toBeCloseTo(1 / (1 + Math.exp(1.7)), 15);
    expect(chooseInteraction({ ability: 1, difficulty: 1 }).mode).toBe('compete'); // P = 0.5 >= 0.5
    expect(chooseInteraction({ ability: 1, difficulty: 0, threshold: 0.9 }).mode).toBe('cooperate');
  });

  it('the fixed-probability override ignores the rule (0, 1 deterministic; 0.5 needs an rng)', () => {
    expect(chooseInteraction({ ability: 5, difficulty: 0, cooperationProbability: 1 }).mode).toBe('cooperate');
    expect(chooseInteraction({ ability: -5, difficulty: 0, cooperationProbability: 0 }).mode).toBe('compete');
    expect(() => chooseInteraction({ ability: 0, difficulty: 0, cooperationProbability: 0.5 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const rng = createRng(12);
    let cooperations = 0;
    for (let i = 0; i < 10_000; i++) if (chooseInteraction({ ability: 0, difficulty: 0, cooperationProbability: 0.3, rng }).mode === 'cooperate') cooperations++;
    expect(Math.abs(cooperations - 3000)).toBeLessThan(200);
  });

  it('rejects NaN inputs with INVALID_ARGUMENT', () => {
    expect(() => irtProbability({ ability: Number.NaN, difficulty: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => chooseInteraction({ ability: 0, difficulty: 0, cooperationProbability: 1.5 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('fitRasch', () => {
  function simulate(seed: number, persons: number, items: number) {
    const rng = createRng(seed);
    const abilities = Float64Array.from({ length: persons }, () => normal(rng));
    const difficulties = Float64Array.from({ length: items }, () => normal(rng));
    const correct = new Uint8Array(persons * items);
    for (let p = 0; p < persons; p++) {
      for (let q = 0; q < items; q++) {
        correct[p * items + q] = rng.next() < irtProbability({ ability: abilities[p]!, difficulty: difficulties[q]! }) ? 1 : 0;
      }
    }
    return { abilities, difficulties, correct };
  }

  const correlation = (a: Float64Array, b: Float64Array): number => {
    const mean = (x: Float64Array) => x.reduce((s, v) => s + v, 0) / x.length;
    const ma = mean(a);
    const mb = mean(b);
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let i = 0; i < a.length; i++) {
      ab += (a[i]! - ma) * (b[i]! - mb);
      aa += (a[i]! - ma) ** 2;
      bb += (b[i]! - mb) ** 2;
    }
    return ab / Math.sqrt(aa * bb);
  };
  const rmse = (a: Float64Array, b: Float64Array): number => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0) / a.length);

  it('recovers known abilities and difficulties from simulated data (300 persons × 60 items)', () => {
    const truth = simulate(2026, 300, 60);
    const fit = fitRasch({ correct: truth.correct, persons: 300, items: 60, regularization: 0.01 });
    expect(fit.converged).toBe(true);
    expect(correlation(fit.difficulties, truth.difficulties)).toBeGreaterThan(0.97);
    expect(correlation(fit.abilities, truth.abilities)).toBeGreaterThan(0.9);
    expect(rmse(fit.difficulties, truth.difficulties)).toBeLessThan(0.2);
    expect(rmse(fit.abilities, truth.abilities)).toBeLessThan(0.4);
  });

  it('reaches a stationary point of the penalised likelihood (first-order conditions hold)', () => {
    const { correct } = simulate(5, 8, 12);
    const lambda = 0.3;
    const fit = fitRasch({ correct, persons: 8, items: 12, regularization: lambda, scale: 1 });
    for (let p = 0; p < 8; p++) {
      let gradient = -lambda * fit.abilities[p]!;
      for (let q = 0; q < 12; q++) gradient += correct[p * 12 + q]! - 1 / (1 + Math.exp(-(fit.abilities[p]! - fit.difficulties[q]!)));
      expect(Math.abs(gradient)).toBeLessThan(1e-6);
    }
  });

  it('keeps perfect and zero rows/columns finite and ordered, and ignores unobserved cells', () => {
    // person 0 solves everything, person 2 nothing
    const rows = fitRasch({ correct: Uint8Array.from([1, 1, 1, 1, 0, 0, 0, 0, 0]), persons: 3, items: 3 });
    // item 0 is solved by everyone, item 2 by nobody
    const columns = fitRasch({ correct: Uint8Array.from([1, 1, 0, 1, 0, 0, 1, 0, 0]), persons: 3, items: 3 });
    for (const fit of [rows, columns]) {
      expect(fit.converged).toBe(true);
      for (const value of [...fit.abilities, ...fit.difficulties, fit.logLikelihood]) expect(Number.isFinite(value)).toBe(true);
    }
    expect(rows.abilities[0]).toBeGreaterThan(rows.abilities[1]!);
    expect(rows.abilities[1]).toBeGreaterThan(rows.abilities[2]!);
    expect(columns.difficulties[2]).toBeGreaterThan(columns.difficulties[1]!);
    expect(columns.difficulties[1]).toBeGreaterThan(columns.difficulties[0]!);
    const masked = fitRasch({ correct: Uint8Array.from([1, 7, 0, 1]), observed: Uint8Array.from([1, 0, 1, 1]), persons: 2, items: 2 });
    expect(masked.abilities[0]).toBeGreaterThan(masked.abilities[1]!);
  });

  it('rejects non-binary outcomes, wrong shapes and a zero regulariser with codes', () => {
    expect(() => fitRasch({ correct: [0, 2], persons: 1, items: 2 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => fitRasch({ correct: [0, Number.NaN], persons: 1, items: 2 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => fitRasch({ correct: [0, 1, 1], persons: 1, items: 2 })).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    expect(() => fitRasch({ correct: [0, 1], persons: 1, items: 2, regularization: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
