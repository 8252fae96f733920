import { describe, expect, it } from 'vitest';
import { errorCodeOf } from '../batch/testing/expect-aipo-error';
import { TokenSource } from '../batch/token-source';
import { createRng } from '../random/create-rng';
import { policyLoss } from './policy-loss';
import type { PolicyLossOptions } from './policy-loss-definition';
import type { PolicyLossInput } from './policy-loss-input';

function seeded(seed: number): () => number {
  const rng = createRng(seed);
  return () => rng.next();
}

function batch(seed: number, batchSize = 7, sequenceLength = 33) {
  const next = seeded(seed);
  const tokens = batchSize * sequenceLength;
  const logProbs = new Float32Array(tokens);
  const oldLogProbs = new Float32Array(tokens);
  const advantages = new Float32Array(tokens);
  const sequenceAdvantages = new Float32Array(batchSize);
  const lossMask = new Uint8Array(tokens);
  for (let row = 0; row < batchSize; row++) {
    const length = row === 3 ? 0 : Math.floor(next() * sequenceLength) + 1;
    sequenceAdvantages[row] = (next() - 0.5) * 4;
    for (let column = 0; column < sequenceLength; column++) {
      const index = row * sequenceLength + column;
      logProbs[index] = -next() * 4;
      oldLogProbs[index] = (logProbs[index] as number) + (next() - 0.5) * 1.5;
      advantages[index] = sequenceAdvantages[row] as number;
      lossMask[index] = column < length ? 1 : 0;
      if (column >= length) logProbs[index] = Number.NEGATIVE_INFINITY;
    }
  }
  // one ratio overflow to exercise the clamp
  oldLogProbs[1] = (logProbs[1] as number) - 90;
  return { batchSize, sequenceLength, logProbs, oldLogProbs, advantages, sequenceAdvantages, lossMask };
}

function expectSame(fused: ReturnType<typeof policyLoss>, general: ReturnType<typeof policyLoss>): void {
  expect(Math.abs(fused.value - general.value)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(general.value)));
  expect(Array.from(fused.gradLogProbs)).toEqual(Array.from(general.gradLogProbs));
  for (const [key, value] of Object.entries(general.diagnostics)) {
    if (typeof value !== 'number') continue;
    const actual = (fused.diagnostics as unknown as Record<string, number>)[key] as number;
    expect(Math.abs(actual - value)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(value)));
  }
}

describe('fused PPO-clip + token-mean kernel equals the general path', () => {
  const variants: PolicyLossOptions[] = [
    {},
    { clipEpsHigh: 0.28 },
    { dualClip: 1.5 },
    { dualClip: 2, gradientPreservingClip: true, clipEpsLow: 0.1, clipEpsHigh: 0.3 },
    { clip: false },
    { logRatioClamp: 1 },
    { advantageScale: 0.5, dualClip: 1.5 },
    { clip: false, dualClip: 1.5 },
  ];
  for (const options of variants) {
    it(JSON.stringify(options), () => {
      for (const seed of [1, 2, 3]) {
        const input: PolicyLossInput = { ...batch(seed), loss: 'ppo-clip', options, sequenceAdvantages: undefined };
        const fused = policyLoss(input);
        const general = policyLoss({ ...input, fastPath: false });
        expectSame(fused, general);
        // an all-policy source mask forces the general path too
        expectSame(
          fused,
          policyLoss({ ...input, sourceMask: new Uint8Array(input.lossMask.length).fill(TokenSource.policy) }),
        );
        expect(fused.diagnostics.clampedTokenFraction).toBeGreaterThan(0);
      }
    });
  }
  it('per-row kernels (sequenceAdvantages) equal the general path on random batches with ±0 rows and edge tokens', () => {
    for (const options of variants) {
      for (const seed of [11, 12, 13]) {
        const { advantages: _unused, ...rest } = batch(seed, 9, 41);
        const sequenceAdvantages = Float32Array.from(rest.sequenceAdvantages);
        // rows with A = +0 and -0 clip nowhere; a tiny A and a huge one stress the scaling
        sequenceAdvantages[0] = 0;
        sequenceAdvantages[2] = -0;
        sequenceAdvantages[5] = 1e-30;
        sequenceAdvantages[6] = -3e4;
        const oldLogProbs = Float32Array.from(rest.oldLogProbs);
        const logProbs = Float32Array.from(rest.logProbs);
        const clamp = options.logRatioClamp ?? 20;
        // a log-ratio exactly at +clamp (kept) and one just past -clamp (clamped) in a negative row,
        // a ratio of exactly 1, and an on-policy token at log-prob 0
        const edge = 6 * 41;
        logProbs[edge] = -1;
        oldLogProbs[edge] = -1 - clamp;
        logProbs[edge + 1] = -2;
        oldLogProbs[edge + 1] = -2 + clamp * 1.5;
        logProbs[edge + 2] = -0.5;
        oldLogProbs[edge + 2] = -0.5;
        logProbs[edge + 3] = 0;
        oldLogProbs[edge + 3] = 0;
        const input: PolicyLossInput = {
          ...rest,
          logProbs,
          oldLogProbs,
          sequenceAdvantages,
          lossMask: rest.lossMask.map((value, index) => (index >= edge && index < edge + 4 ? 1 : value)),
          loss: 'ppo-clip',
          options,
        };
        const fused = policyLoss(input);
        expectSame(fused, policyLoss({ ...input, fastPath: false }));
        const dirty = new Float32Array(input.lossMask.length).fill(-3);
        expectSame(policyLoss({ ...input, gradientBuffer: dirty }), fused);
        // the same rows broadcast to [B,T] advantages run the per-token kernel: same result
        const broadcast = new Float32Array(input.lossMask.length);
        for (let index = 0; index < broadcast.length; index++) broadcast[index] = sequenceAdvantages[Math.floor(index / 41)] as number;
        expectSame(policyLoss({ ...input, sequenceAdvantages: undefined, advantages: broadcast }), fused);
      }
    }
  });
  it('with sequenceAdvantages and a global token count', () => {
    const { advantages: _unused, ...rest } = batch(4);
    const input: PolicyLossInput = { ...rest, loss: 'ppo-clip', globalTokenCount: 1000, options: { dualClip: 3 } };
    expectSame(policyLoss(input), policyLoss({ ...input, fastPath: false }));
  });
  it('a reused, dirty gradient buffer gives the same result as a fresh one, on both paths', () => {
    const input: PolicyLossInput = {
      ...batch(8),
      loss: 'ppo-clip',
      sequenceAdvantages: undefined,
      options: { dualClip: 2 },
    };
    const fresh = policyLoss(input);
    for (const fastPath of [true, false]) {
      const buffer = new Float32Array(input.lossMask.length).fill(7);
      const reused = policyLoss({ ...input, fastPath, gradientBuffer: buffer });
      expect(reused.gradLogProbs).toBe(buffer);
      expectSame(reused, fresh);
    }
    const gspoBuffer = new Float32Array(input.lossMask.length).fill(7);
    expectSame(
      policyLoss({ ...input, loss: 'gspo', gradientBuffer: gspoBuffer }),
      policyLoss({ ...input, loss: 'gspo' }),
    );
    expect(() => policyLoss({ ...input, gradientBuffer: new Float32Array(3) })).toThrow(/gradientBuffer/);
  });
  it('counts the loss mask the same for any non-zero byte, unaligned views and odd lengths', () => {
    // the kernel counts mask bytes four at a time when the view is 4-byte aligned
    const input: PolicyLossInput = { ...batch(9, 5, 37), loss: 'ppo-clip', sequenceAdvantages: undefined };
    const reference = policyLoss({ ...input, fastPath: false });
    const wide = Uint8Array.from(input.lossMask, (value, index) => (value === 0 ? 0 : [1, 2, 128, 255][index % 4]!));
    const shifted = new Uint8Array(input.lossMask.length + 3);
    shifted.set(wide, 3);
    for (const lossMask of [wide, shifted.subarray(3)]) {
      const fused = policyLoss({ ...input, lossMask });
      expectSame(fused, reference);
      expect(fused.diagnostics.policyTokenCount).toBe(input.lossMask.reduce((sum, value) => sum + value, 0));
    }
  });
  it('rejects bad inputs with the same codes', () => {
    const input: PolicyLossInput = { ...batch(5), loss: 'ppo-clip', sequenceAdvantages: undefined };
    const nan = Float32Array.from(input.oldLogProbs as Float32Array);
    nan[0] = Number.NaN;
    expect(errorCodeOf(() => policyLoss({ ...input, oldLogProbs: nan }))).toBe('NON_FINITE_INPUT');
    expect(errorCodeOf(() => policyLoss({ ...input, oldLogProbs: nan, fastPath: false }))).toBe('NON_FINITE_INPUT');
    const positive = Float32Array.from(input.logProbs as Float32Array);
    positive[0] = 0.5;
    expect(errorCodeOf(() => policyLoss({ ...input, logProbs: positive }))).toBe('INVALID_ARGUMENT');
    expect(errorCodeOf(() => policyLoss({ ...input, globalTokenCount: 3 }))).toBe('INVALID_ARGUMENT');
    expect(errorCodeOf(() => policyLoss({ ...input, globalTokenCount: 3, fastPath: false }))).toBe('INVALID_ARGUMENT');
  });
  it('its gradient matches central differences in float64 (no stop-gradient knobs)', () => {
    const source = batch(6, 3, 5);
    const logProbs = Float64Array.from(source.logProbs);
    const base: PolicyLossInput = {
      ...source,
      logProbs,
      oldLogProbs: Float64Array.from(source.oldLogProbs, (value, index) =>
        source.lossMask[index]
          ? (logProbs[index] as number) + (value - (source.logProbs[index] as number)) * 0.4
          : value,
      ),
      advantages: Float64Array.from(source.advantages),
      sequenceAdvantages: undefined,
      loss: 'ppo-clip',
      options: { dualClip: 1.2 },
    };
    const result = policyLoss(base);
    const step = 1e-6;
    for (let index = 0; index < logProbs.length; index++) {
      if (source.lossMask[index] === 0) continue;
      const plus = Float64Array.from(logProbs);
      const minus = Float64Array.from(logProbs);
      plus[index] = (plus[index] as number) + step;
      minus[index] = (minus[index] as number) - step;
      const numeric =
        (policyLoss({ ...base, logProbs: plus }).value - policyLoss({ ...base, logProbs: minus }).value) / (2 * step);
      expect(Math.abs((result.gradLogProbs[index] as number) - numeric)).toBeLessThan(1e-6 + 1e-5 * Math.abs(numeric));
    }
  });
});
