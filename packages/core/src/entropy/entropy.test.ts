import { describe, expect, it } from 'vitest';
import {
  AGGREGATION_MODES,
  createAdaptiveEntropyController,
  createRng,
  entropyBonus,
  entropyBoundsFromTopK,
  entropyFromLogits,
  entropyWithGradient,
  normal,
} from '../index';
import { expectClose as expectWithin, finiteDifferences as differences } from '../kl/gradient-check';

/** Independent float64 reference: H = −Σ p log p with p from a shifted softmax. */
function referenceEntropy(row: ArrayLike<number>, temperature = 1): number {
  const z = Array.from(row, (value) => value / temperature).filter((value) => value !== Number.NEGATIVE_INFINITY);
  const m = z.reduce((best, value) => Math.max(best, value), Number.NEGATIVE_INFINITY);
  const logS = Math.log(z.reduce((sum, value) => sum + Math.exp(value - m), 0));
  return -z.reduce((sum, value) => {
    const logP = value - m - logS;
    return sum + Math.exp(logP) * logP;
  }, 0);
}

function randomLogits(seed: number, length: number, std = 2): Float64Array {
  const rng = createRng(seed);
  return Float64Array.from({ length }, () => normal(rng, { std }));
}

describe('entropyFromLogits', () => {
  it('hand-computed values: uniform gives log V, [½, ¼, ¼] gives 1.5·log 2', () => {
    const entropy = entropyFromLogits({ logits: Float32Array.from([0, 0, 0, 0, Math.log(0.5), Math.log(0.25), Math.log(0.25), Number.NEGATIVE_INFINITY]), vocabSize: 4 });
    expect(entropy[0]).toBeCloseTo(Math.log(4), 6);
    expect(entropy[1]).toBeCloseTo(1.5 * Math.log(2), 6);
  });

  it('is stable where naive exp overflows and skips −∞ logits without NaN', () => {
    const entropy = entropyFromLogits({ logits: Float64Array.from([1000, 1000, Number.NEGATIVE_INFINITY, 1e30, 1e30 - 1e15, 0]), vocabSize: 3 });
    expect(entropy[0]).toBeCloseTo(Math.log(2), 6);
    expect(entropy[1]).toBe(0); // a 1e15 gap is a point mass
  });

  it('matches the float64 reference on a large vocabulary row (V = 200 000) and with a temperature', () => {
    const logits = randomLogits(1, 200_000, 3);
    expect(entropyFromLogits({ logits, vocabSize: 200_000 })[0]).toBeCloseTo(referenceEntropy(logits), 4);
    const small = randomLogits(2, 3 * 50);
    const hot = entropyFromLogits({ logits: small, vocabSize: 50, temperature: 0.6 });
    for (let row = 0; row < 3; row++) expect(hot[row]).toBeCloseTo(referenceEntropy(small.subarray(row * 50, row * 50 + 50), 0.6), 5);
  });

  it('streams chunks of rows into one output, and skips masked rows without reading them', () => {
    const logits = randomLogits(3, 6 * 10);
    const whole = entropyFromLogits({ logits, vocabSize: 10 });
    const output = new Float32Array(6);
    for (let start = 0; start < 6; start += 2) {
      entropyFromLogits({ logits: logits.subarray(start * 10, (start + 2) * 10), vocabSize: 10, output, outputOffset: start });
    }
    expect(output).toEqual(whole);
    const poisoned = Float64Array.from(logits);
    poisoned.fill(Number.NaN, 10, 20);
    const masked = entropyFromLogits({ logits: poisoned, vocabSize: 10, rowMask: Uint8Array.from([1, 0, 1, 1, 1, 1]) });
    expect(masked[1]).toBe(0);
    expect(masked[2]).toBe(whole[2]);
  });

  it('rejects NaN, +∞, all-−∞ rows and bad shapes with codes', () => {
    expect(() => entropyFromLogits({ logits: Float32Array.from([0, Number.NaN]), vocabSize: 2 })).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
    expect(() => entropyFromLogits({ logits: Float32Array.from([Number.NaN, 0]), vocabSize: 2 })).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
    expect(() => entropyFromLogits({ logits: Float32Array.from([0, Number.POSITIVE_INFINITY]), vocabSize: 2 })).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
    expect(() => entropyFromLogits({ logits: Float32Array.from([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]), vocabSize: 2 })).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
    expect(() => entropyFromLogits({ logits: new Float32Array(5), vocabSize: 2 })).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    expect(() => entropyFromLogits({ logits: new Float32Array(4), vocabSize: 2, output: new Float32Array(1) })).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    expect(() => entropyFromLogits({ logits: new Float32Array(4), vocabSize: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => entropyFromLogits({ logits: new Float32Array(4), vocabSize: 2, temperature: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

const finiteDifferences = (x: Float64Array, loss: (perturbed: Float64Array) => number): Float64Array =>
  differences(x, loss, (index) => Number.isFinite(x[index]));

describe('entropyWithGradient', () => {
  it('∂(Σ g_n·H_n)/∂logits matches central finite differences (with −∞ logits and a temperature)', () => {
    const V = 7;
    const logits = randomLogits(4, 4 * V);
    logits[3] = Number.NEGATIVE_INFINITY;
    const upstream = Float64Array.from([0.7, -1.3, 0, 2]);
    for (const temperature of [1, 0.7]) {
      const { entropy, gradLogits } = entropyWithGradient({ logits, vocabSize: V, upstream, temperature });
      for (let row = 0; row < 4; row++) expect(entropy[row]).toBeCloseTo(referenceEntropy(logits.subarray(row * V, row * V + V), temperature), 5);
      const loss = (values: Float64Array): number =>
        [0, 1, 2, 3].reduce((sum, row) => sum + (upstream[row] as number) * referenceEntropy(values.subarray(row * V, row * V + V), temperature), 0);
      expectWithin(gradLogits, finiteDifferences(logits, loss), 2e-5);
      expect(gradLogits[3]).toBe(0);
    }
  });

  it('rejects an upstream of the wrong length or with NaN', () => {
    expect(() => entropyWithGradient({ logits: new Float32Array(4), vocabSize: 2, upstream: new Float32Array(3) })).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    expect(() => entropyWithGradient({ logits: new Float32Array(4), vocabSize: 2, upstream: Float32Array.from([1, Number.NaN]) })).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
  });
});

describe('entropyBonus', () => {
  const B = 2;
  const T = 3;
  const V = 5;
  const mask = Uint8Array.from([1, 1, 0, 0, 1, 0]);

  for (const mode of AGGREGATION_MODES) {
    it(`${mode}: value is −c·agg(H) and ∂value/∂logits matches finite differences`, () => {
      const logits = randomLogits(mode.length, B * T * V);
      logits.fill(Number.NaN, 2 * V, 3 * V); // masked-out rows are never read
      const run = (values: Float64Array) => entropyBonus({ logits: values, vocabSize: V, mask, batchSize: B, sequenceLength: T, coefficient: 0.05, aggregation: { mode, normConstant: 4 } });
      const result = run(logits);
      expect(Number.isFinite(result.value)).toBe(true);
      expect(result.value).toBeLessThan(0);
      expect(result.entropy[2]).toBe(0);
      const reference = [0, 1, 4].map((row) => referenceEntropy(logits.subarray(row * V, row * V + V)));
      expect(result.diagnostics.meanEntropy).toBeCloseTo((reference[0]! + reference[1]! + reference[2]!) / 3, 6);
      if (mode === 'token-mean') expect(result.value).toBeCloseTo((-0.05 * (reference[0]! + reference[1]! + reference[2]!)) / 3, 7);
      const masked = Float64Array.from(logits, (value) => (Number.isNaN(value) ? Number.NEGATIVE_INFINITY : value));
      expectWithin(result.gradLogits, finiteDifferences(masked, (values) => run(values).value), 2e-5);
    });
  }

  it('an all-masked batch gives value 0 and a zero gradient', () => {
    const result = entropyBonus({ logits: new Float32Array(2 * 3).fill(Number.NaN), vocabSize: 3, mask: new Uint8Array(2), batchSize: 1, sequenceLength: 2, coefficient: 1 });
    expect(result.value === 0).toBe(true);
    expect(result.gradLogits.every((value) => value === 0)).toBe(true);
  });

  it('rejects a logits array that is not B·T·V long and a negative coefficient', () => {
    expect(() => entropyBonus({ logits: new Float32Array(5), vocabSize: 2, mask: new Uint8Array(3), batchSize: 1, sequenceLength: 3, coefficient: 1 })).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    expect(() => entropyBonus({ logits: new Float32Array(6), vocabSize: 2, mask: new Uint8Array(3), batchSize: 1, sequenceLength: 3, coefficient: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('createAdaptiveEntropyController (Skywork-OR1)', () => {
  it('raises c while entropy is at or below target (and applies it), lowers it and switches off above', () => {
    const controller = createAdaptiveEntropyController({ targetEntropy: 0.2, initialCoefficient: 0.005, delta: 0.001, maxCoefficient: 0.007 });
    expect(controller.update({ entropy: 0.1 })).toBeCloseTo(0.006, 15);
    expect(controller.update({ entropy: 0.2 })).toBeCloseTo(0.007, 15);
    expect(controller.update({ entropy: 0.15 })).toBeCloseTo(0.007, 15); // capped at cmax
    expect(controller.update({ entropy: 0.3 })).toBe(0);
    expect(controller.coefficient).toBeCloseTo(0.006, 15);
    controller.update({ entropy: 0.3 });
    controller.update({ entropy: 0.3 });
    controller.update({ entropy: 0.3 });
    controller.update({ entropy: 0.3 });
    controller.update({ entropy: 0.3 });
    controller.update({ entropy: 0.3 });
    expect(controller.coefficient).toBe(0); // floored at cmin
  });

  it('rejects bad settings and NaN entropies with INVALID_ARGUMENT', () => {
    expect(() => createAdaptiveEntropyController({ targetEntropy: 0.2, initialCoefficient: 2, delta: 0.1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const controller = createAdaptiveEntropyController({ targetEntropy: 0.2, initialCoefficient: 0, delta: 0.1 });
    expect(() => controller.update({ entropy: Number.NaN })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('entropyBoundsFromTopK', () => {
  it('brackets the full entropy, is tight for a uniform tail and exact when K = V', () => {
    const probabilities = [0.5, 0.2, 0.1, 0.1, 0.05, 0.05];
    const full = -probabilities.reduce((sum, p) => sum + p * Math.log(p), 0);
    const top3 = entropyBoundsFromTopK({ logProbs: Float64Array.from(probabilities.slice(0, 3), Math.log), topK: 3, vocabSize: 6 });
    expect(top3.lower[0]).toBeLessThan(full);
    expect(top3.upper[0]).toBeGreaterThan(full);
    expect(top3.lower[0]).toBeCloseTo(-(0.5 * Math.log(0.5) + 0.2 * Math.log(0.2) + 0.1 * Math.log(0.1)), 6);
    // top-4 leaves a uniform tail (0.05, 0.05): the upper bound is the entropy itself
    const top4 = entropyBoundsFromTopK({ logProbs: Float64Array.from(probabilities.slice(0, 4), Math.log), topK: 4, vocabSize: 6 });
    expect(top4.upper[0]).toBeCloseTo(full, 6);
    const all = entropyBoundsFromTopK({ logProbs: Float64Array.from(probabilities, Math.log), topK: 6, vocabSize: 6 });
    expect(all.lower[0]).toBeCloseTo(full, 6);
    expect(all.upper[0]).toBeCloseTo(full, 6);
  });

  it('skips −∞ entries and rejects NaN, positive log-probs and mass above 1 with codes', () => {
    const padded = entropyBoundsFromTopK({ logProbs: Float32Array.from([0, Number.NEGATIVE_INFINITY]), topK: 2, vocabSize: 10 });
    expect([padded.lower[0], padded.upper[0]]).toEqual([0, 0]);
    expect(() => entropyBoundsFromTopK({ logProbs: Float32Array.from([Number.NaN, -1]), topK: 2, vocabSize: 4 })).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
    expect(() => entropyBoundsFromTopK({ logProbs: Float32Array.from([0.5, -1]), topK: 2, vocabSize: 4 })).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
    expect(() => entropyBoundsFromTopK({ logProbs: Float32Array.from([Math.log(0.7), Math.log(0.7)]), topK: 2, vocabSize: 4 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => entropyBoundsFromTopK({ logProbs: new Float32Array(3), topK: 2, vocabSize: 4 })).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    expect(() => entropyBoundsFromTopK({ logProbs: new Float32Array(2), topK: 2, vocabSize: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
