import { TokenSource, type TokenSourceId } from '@aipo/core';
import { describe, expect, it } from 'vitest';
import { makeProblem } from '../tasks/arithmetic-task';
import { computePolicyGradientWeights } from './policy-gradient-weights';
import { parseRecipeConfig } from './recipe-config';
import type { Trajectory } from './trajectory';

const trajectory = (sources: TokenSourceId[], oldLogProbs: number[]): Trajectory => ({
  problem: makeProblem('1+1'),
  group: 0,
  prompt: [1],
  response: sources.map(() => 5),
  sources,
  oldLogProbs,
  text: '',
  reward: 0,
  finishReason: 'stop',
  consultations: {},
});

describe('computePolicyGradientWeights', () => {
  const config = parseRecipeConfig({ recipe: 'grpo', loss: { clipLow: 0.2, clipHigh: 0.28 } });

  it('gives −Â·r on unclipped policy tokens and 0 on the clipped branch (token-mean over 3 tokens)', () => {
    const logProbs = [Math.log(0.5), Math.log(0.5 * 1.5), Math.log(0.5 * 0.7)];
    const { weights, stats } = computePolicyGradientWeights({
      trajectories: [trajectory([0, 0, 0], [Math.log(0.5), Math.log(0.5), Math.log(0.5)])],
      logProbs: [Float32Array.from(logProbs)],
      advantages: [2],
      config,
    });
    // r = 1 → −2·1/3; r = 1.5 > 1.28 with Â > 0 → clipped, 0; r = 0.7 with Â > 0 → −2·0.7/3
    expect(weights[0]?.[0]).toBeCloseTo(-2 / 3, 5);
    expect(weights[0]?.[1]).toBe(0);
    expect(weights[0]?.[2]).toBeCloseTo((-2 * 0.7) / 3, 5);
    expect(stats.clipFractionHigh).toBeCloseTo(1 / 3, 6);
    expect(stats.clipFractionLow).toBe(0);
  });

  it('keeps bound·gradient on clipped tokens with the gradient-preserving clip', () => {
    const preserving = parseRecipeConfig({ recipe: 'grpo', loss: { clipLow: 0.2, clipHigh: 0.28, gradientPreservingClip: true } });
    const { weights, stats } = computePolicyGradientWeights({
      trajectories: [trajectory([0], [Math.log(0.5)])],
      logProbs: [Float32Array.of(Math.log(0.5 * 0.5))],
      advantages: [-1],
      config: preserving,
    });
    // Â < 0 and r = 0.5 < 0.8: lower branch, weight −Â·(1−ε_low) = 0.8
    expect(weights[0]?.[0]).toBeCloseTo(0.8, 5);
    expect(stats.clipFractionLow).toBe(1);
  });

  it('shapes off-policy tokens with f(p) = p/(p+γ): w = −Â·γp/(p+γ)²', () => {
    const p = 0.05;
    const { weights } = computePolicyGradientWeights({
      trajectories: [trajectory([TokenSource.offPolicy], [Number.NaN])],
      logProbs: [Float32Array.of(Math.log(p))],
      advantages: [1],
      config: parseRecipeConfig({ recipe: 'luffy' }),
    });
    expect(weights[0]?.[0]).toBeCloseTo((-0.1 * p) / (p + 0.1) ** 2, 5);
  });

  it('weights agent tokens by π_θ, floored at c_min only when Â < 0', () => {
    const p = 0.02;
    const aipo = parseRecipeConfig({ recipe: 'aipo' });
    const run = (advantage: number) =>
      computePolicyGradientWeights({
        trajectories: [trajectory([TokenSource.agent], [Number.NaN])],
        logProbs: [Float32Array.of(Math.log(p))],
        advantages: [advantage],
        config: aipo,
      });
    expect(run(1).weights[0]?.[0]).toBeCloseTo(-p, 6);
    const negative = run(-1);
    expect(negative.weights[0]?.[0]).toBeCloseTo(0.1, 6);
    expect(negative.stats.agentFloorFraction).toBe(1);
    const off = parseRecipeConfig({ recipe: 'aipo', aipo: { trainOnAgentTokens: false } });
    const masked = computePolicyGradientWeights({ trajectories: [trajectory([2, 0], [Number.NaN, Math.log(0.5)])], logProbs: [Float32Array.of(Math.log(p), Math.log(0.5))], advantages: [1], config: off });
    expect(masked.weights[0]?.[0]).toBe(0);
    expect(masked.stats.lossTokens).toBe(1);
  });

  it('divides by rows × maxResponseTokens under Dr.GRPO aggregation', () => {
    const constant = parseRecipeConfig({ recipe: 'grpo', maxResponseTokens: 10, loss: { aggregation: 'constant-length' } });
    const { weights } = computePolicyGradientWeights({
      trajectories: [trajectory([0], [0]), trajectory([0, 0], [0, 0])],
      logProbs: [Float32Array.of(0), Float32Array.of(0, 0)],
      advantages: [1, 1],
      config: constant,
    });
    expect(weights[0]?.[0]).toBeCloseTo(-1 / 20, 6);
    expect(weights[1]?.[1]).toBeCloseTo(-1 / 20, 6);
  });

  it('rejects mismatched shapes', () => {
    expect(() =>
      computePolicyGradientWeights({ trajectories: [trajectory([0, 0], [0, 0])], logProbs: [Float32Array.of(0)], advantages: [1], config }),
    ).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
  });
});
