import { describe, expect, it } from 'vitest';
import { errorCodeOf } from '../batch/testing/expect-aipo-error';
import { createRng } from '../random/create-rng';
import { policyLoss } from './policy-loss';
import type { PolicyLossOptions } from './policy-loss-definition';
import type { PolicyLossInput } from './policy-loss-input';
import { ppoClipSimd } from './ppo-clip-simd';

// The WebAssembly SIMD rows of the fused PPO-clip kernel against the scalar rows (`simd: false`):
// the gradient must be bit-identical (same float64 operations, ±0 included), sums equal to rounding.

function rowBatch(options: { seed: number; batchSize: number; sequenceLength: number; spread: number }) {
  const { seed, batchSize, sequenceLength, spread } = options;
  const rng = createRng(seed);
  const next = () => rng.next();
  const tokens = batchSize * sequenceLength;
  const logProbs = new Float32Array(tokens);
  const oldLogProbs = new Float32Array(tokens);
  const lossMask = new Uint8Array(tokens);
  const sequenceAdvantages = new Float32Array(batchSize);
  const advantages = new Float32Array(tokens);
  for (let row = 0; row < batchSize; row++) {
    sequenceAdvantages[row] = (next() - 0.5) * 4;
    for (let column = 0; column < sequenceLength; column++) {
      const index = row * sequenceLength + column;
      logProbs[index] = -next() * 6;
      oldLogProbs[index] = (logProbs[index] as number) - (next() - 0.5) * 2 * spread;
      // holes inside rows, so quads mix masked-in and masked-out lanes; any non-zero byte counts
      lossMask[index] = next() < 0.75 ? (next() < 0.5 ? 1 : 7) : 0;
      // garbage where masked out must not matter (not even in a quad with masked-in lanes)
      if (lossMask[index] === 0) logProbs[index] = next() < 0.5 ? Number.NaN : Number.POSITIVE_INFINITY;
      // per-token advantages of both signs, some exactly ±0, garbage where masked out
      const draw = next();
      advantages[index] = draw < 0.1 ? 0 : draw < 0.2 ? -0 : (next() - 0.5) * 6;
      if (lossMask[index] === 0 && draw < 0.5) advantages[index] = draw < 0.35 ? Number.NaN : Number.NEGATIVE_INFINITY;
    }
  }
  return { batchSize, sequenceLength, logProbs, oldLogProbs, lossMask, sequenceAdvantages, advantages };
}

function expectIdentical(simd: ReturnType<typeof policyLoss>, scalar: ReturnType<typeof policyLoss>): void {
  expect(simd.gradLogProbs.length).toBe(scalar.gradLogProbs.length);
  let differing = 0;
  for (let index = 0; index < simd.gradLogProbs.length; index++) {
    if (!Object.is(simd.gradLogProbs[index], scalar.gradLogProbs[index])) differing++;
  }
  expect(differing).toBe(0);
  expect(Math.abs(simd.value - scalar.value)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(scalar.value)));
  const a = simd.diagnostics as unknown as Record<string, number>;
  for (const [key, value] of Object.entries(scalar.diagnostics)) {
    if (typeof value !== 'number') continue;
    expect(Math.abs((a[key] as number) - value), key).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(value)));
  }
}

const variants: PolicyLossOptions[] = [
  {},
  { clipEpsHigh: 0.28 },
  { dualClip: 1.5 },
  { dualClip: 2, gradientPreservingClip: true, clipEpsLow: 0.1, clipEpsHigh: 0.3 },
  { clip: false },
  { clip: false, dualClip: 3 },
  { advantageScale: 0.25, gradientPreservingClip: true },
];

describe('ppo-clip SIMD rows', () => {
  it('exist on this engine (Node has WebAssembly SIMD), so the tests below compare two different paths', () => {
    expect(ppoClipSimd()).toBeDefined();
  });

  it('give bit-identical gradients to the scalar rows for every knob, row length and advantage sign', () => {
    let checked = 0;
    for (const options of variants) {
      for (const sequenceLength of [1, 2, 3, 4, 5, 7, 8, 33, 130]) {
        const { advantages: _perToken, ...batch } = rowBatch({ seed: sequenceLength * 31 + checked, batchSize: 6, sequenceLength, spread: 0.6 });
        const input: PolicyLossInput = { ...batch, loss: 'ppo-clip', options };
        const advantages = input.sequenceAdvantages as Float32Array;
        advantages[0] = 0;
        advantages[1] = -0;
        const simd = policyLoss(input);
        const scalar = policyLoss({ ...input, simd: false });
        expectIdentical(simd, scalar);
        // a reused buffer full of junk ends the same
        expectIdentical(policyLoss({ ...input, gradientBuffer: new Float32Array(advantages.length * sequenceLength).fill(9) }), scalar);
        checked++;
      }
    }
    expect(checked).toBe(variants.length * 9);
  });

  it('give bit-identical gradients with per-token advantages ([B,T], both signs and ±0 in one row)', () => {
    let checked = 0;
    for (const options of variants) {
      for (const sequenceLength of [1, 3, 4, 6, 33, 130]) {
        const { sequenceAdvantages: _perRow, ...batch } = rowBatch({ seed: sequenceLength * 17 + checked, batchSize: 5, sequenceLength, spread: 0.6 });
        const input: PolicyLossInput = { ...batch, loss: 'ppo-clip', options };
        const simd = policyLoss(input);
        const scalar = policyLoss({ ...input, simd: false });
        expectIdentical(simd, scalar);
        expectIdentical(policyLoss({ ...input, gradientBuffer: new Float32Array(5 * sequenceLength).fill(-2) }), scalar);
        checked++;
      }
    }
    // the options above clip on both sides: some tokens must have been clipped low, high and dual
    const { sequenceAdvantages: _perRow, ...batch } = rowBatch({ seed: 77, batchSize: 8, sequenceLength: 64, spread: 1.5 });
    const clipped = policyLoss({ ...batch, loss: 'ppo-clip', options: { dualClip: 1.5 } }).diagnostics;
    expect(clipped.clipFractionLow).toBeGreaterThan(0);
    expect(clipped.clipFractionHigh).toBeGreaterThan(0);
    expect(clipped.dualClipFraction).toBeGreaterThan(0);
    expect(checked).toBe(variants.length * 6);
  });

  it('leave a non-finite masked-in token advantage to the scalar path and its typed error', () => {
    const { sequenceAdvantages: _perRow, ...batch } = rowBatch({ seed: 13, batchSize: 3, sequenceLength: 16, spread: 0.5 });
    batch.lossMask[20] = 1;
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const advantages = Float32Array.from(batch.advantages);
      advantages[20] = value;
      const input: PolicyLossInput = { ...batch, advantages, loss: 'ppo-clip' };
      expect(errorCodeOf(() => policyLoss(input)), String(value)).toBe('NON_FINITE_INPUT');
      expect(errorCodeOf(() => policyLoss({ ...input, simd: false }))).toBe('NON_FINITE_INPUT');
    }
  });

  it('reproduce the table-driven exp exactly over the whole clamp range (|log r| up to 79)', () => {
    // log-ratios spread over ±78 cross every table entry and 2^k from 2^-113 to 2^112
    const { advantages: _perToken, ...batch } = rowBatch({ seed: 5, batchSize: 16, sequenceLength: 257, spread: 78 });
    const input: PolicyLossInput = { ...batch, loss: 'ppo-clip', options: { logRatioClamp: 79, clip: false } };
    const simd = policyLoss(input);
    expectIdentical(simd, policyLoss({ ...input, simd: false }));
    expect(simd.diagnostics.ratioMax).toBeGreaterThan(1e30);
    expect(simd.diagnostics.clampedTokenFraction).toBe(0);
  });

  it('hand a row with a clamped token to the scalar path, which clamps it', () => {
    const { advantages: _perToken, ...batch } = rowBatch({ seed: 9, batchSize: 5, sequenceLength: 40, spread: 0.5 });
    const input: PolicyLossInput = { ...batch, loss: 'ppo-clip' };
    const old = input.oldLogProbs as Float32Array;
    const mask = input.lossMask;
    mask[2 * 40 + 17] = 1;
    old[2 * 40 + 17] = (input.logProbs[2 * 40 + 17] as number) + 30;
    const simd = policyLoss(input);
    expectIdentical(simd, policyLoss({ ...input, simd: false }));
    expect(simd.diagnostics.clampedTokenFraction).toBeGreaterThan(0);
  });

  it('leave invalid masked-in tokens to the scalar path and its typed errors', () => {
    const { advantages: _perToken, ...batch } = rowBatch({ seed: 10, batchSize: 4, sequenceLength: 12, spread: 0.5 });
    const base: PolicyLossInput = { ...batch, loss: 'ppo-clip' };
    base.lossMask[25] = 1;
    const nanOld = Float32Array.from(base.oldLogProbs as Float32Array);
    nanOld[25] = Number.NaN;
    expect(errorCodeOf(() => policyLoss({ ...base, oldLogProbs: nanOld }))).toBe('NON_FINITE_INPUT');
    const positive = Float32Array.from(base.logProbs as Float32Array);
    positive[25] = 0.5;
    expect(errorCodeOf(() => policyLoss({ ...base, logProbs: positive }))).toBe('INVALID_ARGUMENT');
    // every bad value a masked-in token can hold ends in the scalar path's error, with its code
    for (const [array, value] of [
      ['logProbs', Number.NaN],
      ['logProbs', Number.NEGATIVE_INFINITY],
      ['logProbs', Number.POSITIVE_INFINITY],
      ['oldLogProbs', Number.POSITIVE_INFINITY],
      ['oldLogProbs', Number.NEGATIVE_INFINITY],
    ] as const) {
      const bad = Float32Array.from(base[array] as Float32Array);
      bad[25] = value;
      const simdCode = errorCodeOf(() => policyLoss({ ...base, [array]: bad }));
      expect(simdCode, `${array} = ${value}`).toMatch(/^(NON_FINITE_INPUT|INVALID_ARGUMENT)$/);
      expect(simdCode).toBe(errorCodeOf(() => policyLoss({ ...base, [array]: bad, simd: false })));
    }
  });

  it('run float64 inputs through the scalar rows with the same result', () => {
    const { advantages: _perToken, ...batch } = rowBatch({ seed: 12, batchSize: 3, sequenceLength: 21, spread: 0.5 });
    const input: PolicyLossInput = { ...batch, loss: 'ppo-clip' };
    const wide = { ...input, logProbs: Float64Array.from(input.logProbs), oldLogProbs: Float64Array.from(input.oldLogProbs as Float32Array) };
    expectIdentical(policyLoss(wide), policyLoss(input));
  });

  it('grow their scratch for a long row and keep working for short ones after', () => {
    for (const sequenceLength of [70_001, 9]) {
      const { advantages, ...batch } = rowBatch({ seed: sequenceLength, batchSize: 2, sequenceLength, spread: 0.5 });
      const input: PolicyLossInput = { ...batch, loss: 'ppo-clip' };
      expectIdentical(policyLoss(input), policyLoss({ ...input, simd: false }));
      const perToken: PolicyLossInput = { ...input, sequenceAdvantages: undefined, advantages };
      expectIdentical(policyLoss(perToken), policyLoss({ ...perToken, simd: false }));
    }
  });
});
