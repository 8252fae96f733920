import { createRng, TokenSource } from '@aipo/core';
import { describe, expect, it } from 'vitest';
import { makeProblem } from '../tasks/arithmetic-task';
import { createCharGruPolicy } from './char-gru-policy';
import { computePolicyGradientWeights } from './policy-gradient-weights';
import { parseRecipeConfig } from './recipe-config';
import type { RecipePolicy } from './recipe-policy';
import { runRecipe } from './run-recipe';
import { sampleOnPolicyGroups } from './sample-groups';
import type { Trajectory } from './trajectory';
import { updatePolicy } from './update-policy';

const TINY = { model: { embeddingSize: 8, hiddenSize: 16 }, maxResponseTokens: 16, learningRate: 0.02, loss: { updatesPerBatch: 1 } };
const PROBLEMS = ['2+3', '7-4', '5+1', '9-8'].map(makeProblem);

/** A policy moved away from its starting point by a few supervised steps, plus a frozen copy of the start. */
async function movedPolicyAndReference(seed: number): Promise<{ policy: RecipePolicy; reference: RecipePolicy }> {
  const start = await createCharGruPolicy({ embeddingSize: 8, hiddenSize: 16, seed });
  const reference = await start.clone();
  const sequences = PROBLEMS.map((problem) => ({ prompt: start.encode(problem.prompt), response: start.encode('\\boxed{7}') }));
  for (let step = 0; step < 5; step += 1) {
    await start.trainStep({ sequences, weights: sequences.map((sequence) => new Float32Array(sequence.response.length).fill(-0.2)), learningRate: 0.05 });
  }
  // a fresh optimizer: Adam's moments from the moves above must not leak into the measured updates
  const policy = await start.clone();
  start.dispose();
  return { policy, reference };
}

/** Mean squared log-prob gap between policy and reference on fixed sequences (0 iff they agree there). */
async function gapToReference(policy: RecipePolicy, reference: RecipePolicy, trajectories: readonly Trajectory[]): Promise<number> {
  const sequences = trajectories.map((trajectory) => ({ prompt: trajectory.prompt, response: trajectory.response }));
  const [mine, theirs] = [await policy.score(sequences), await reference.score(sequences)];
  let sum = 0;
  let count = 0;
  mine.logProbs.forEach((row, index) => {
    row.forEach((value, t) => {
      sum += (value - (theirs.logProbs[index]?.[t] ?? 0)) ** 2;
      count += 1;
    });
  });
  return sum / count;
}

/** On-policy rollouts whose rewards are all equal: zero advantages, so only the KL / entropy terms act. */
async function flatRollouts(policy: RecipePolicy): Promise<{ trajectories: Trajectory[]; advantages: number[] }> {
  const trajectories = await sampleOnPolicyGroups({ policy, problems: PROBLEMS, rolloutsPerGroup: 4, maxTokens: 16, temperature: 1, rng: createRng(3) });
  return { trajectories, advantages: trajectories.map(() => 0) };
}

describe('KL penalty to a frozen reference (loss.klCoefficient)', () => {
  it.each(['k2', 'k3'] as const)('β > 0 pulls the policy toward the reference (%s); β = 0 leaves it where it is', async (klEstimator) => {
    const { policy, reference } = await movedPolicyAndReference(21);
    const { trajectories, advantages } = await flatRollouts(policy);
    const before = await gapToReference(policy, reference, trajectories);
    expect(before).toBeGreaterThan(0);

    const off = await policy.clone();
    const noKl = parseRecipeConfig({ ...TINY, recipe: 'grpo' });
    await updatePolicy({ policy: off, trajectories, advantages, config: noKl, rng: createRng(0), reference });
    expect(await gapToReference(off, reference, trajectories)).toBe(before);

    const config = parseRecipeConfig({ ...TINY, recipe: 'grpo', loss: { ...TINY.loss, klCoefficient: 1, klEstimator } });
    let stats: Awaited<ReturnType<typeof updatePolicy>> | undefined;
    for (let step = 0; step < 4; step += 1) stats = await updatePolicy({ policy, trajectories, advantages, config, rng: createRng(step), reference });
    expect(await gapToReference(policy, reference, trajectories)).toBeLessThan(before * 0.8);
    expect(stats?.klReference).toBeGreaterThan(0);
    for (const entry of [policy, reference, off]) entry.dispose();
  });

  it('k1 weights are β·∂agg/∂log π on policy tokens only (agent tokens carry no KL term)', async () => {
    const policy = await createCharGruPolicy({ embeddingSize: 8, hiddenSize: 16, seed: 2 });
    const response = policy.encode('<result>4</result>ab');
    const trajectory: Trajectory = {
      problem: makeProblem('2+2'),
      group: 0,
      prompt: policy.encode('2+2=?\n'),
      response,
      sources: response.map((_, t) => (t < 18 ? TokenSource.agent : TokenSource.policy)),
      oldLogProbs: response.map(() => -1),
      text: '',
      reward: 0,
      finishReason: 'stop',
      consultations: {},
    };
    const logProbs = [Float32Array.from(response, () => -1)];
    const config = parseRecipeConfig({ ...TINY, recipe: 'aipo', loss: { klCoefficient: 0.5, klEstimator: 'k1' } });
    const { weights, stats } = computePolicyGradientWeights({ trajectories: [trajectory], logProbs, advantages: [0], refLogProbs: [Float32Array.from(response, () => -2)], config });
    const row = Array.from(weights[0] ?? []);
    // k1 = log π − log π_ref, ∂k1/∂log π = 1, token-mean over the 2 policy tokens: β/2 each
    expect(row.slice(18)).toEqual([0.25, 0.25]);
    expect(row.slice(0, 18).every((value) => value === 0)).toBe(true);
    expect(stats.klReference).toBeCloseTo(1, 6);
    expect(() => computePolicyGradientWeights({ trajectories: [trajectory], logProbs, advantages: [0], config })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    policy.dispose();
  });

  it('runRecipe clones the start as the reference, logs KL to it, and resumes it exactly', async () => {
    const config = { ...TINY, recipe: 'grpo' as const, seed: 5, steps: 2, promptsPerStep: 2, groupSize: 4, loss: { updatesPerBatch: 1, klCoefficient: 0.1 }, task: { trainDifficulties: [1], trainProblemsPerDifficulty: 10, evalDifficulties: [1], evalProblemsPerDifficulty: 1 }, evaluation: { every: 0, samples: 1, k: [1] } };
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const [straightDir, splitDir] = [await mkdtemp(join(tmpdir(), 'aipo-kl-')), await mkdtemp(join(tmpdir(), 'aipo-kl-'))];
    const straight = await runRecipe(config, { outDir: straightDir });
    expect(straight.metrics.every((metric) => metric.klReference !== null && metric.klReference >= 0)).toBe(true);
    (await runRecipe(config, { outDir: splitDir, stopAfterSteps: 1 })).policy.dispose();
    const resumed = await runRecipe(config, { outDir: splitDir });
    expect((await resumed.policy.saveState()).weights).toEqual((await straight.policy.saveState()).weights);
    straight.policy.dispose();
    resumed.policy.dispose();
    for (const directory of [straightDir, splitDir]) await rm(directory, { recursive: true, force: true });
  });
});

describe('entropy bonus (loss.entropyCoefficient)', () => {
  it('raises the entropy of the trained positions through core’s logits gradient', async () => {
    const { policy } = await movedPolicyAndReference(31);
    const { trajectories, advantages } = await flatRollouts(policy);
    const meanEntropy = async () => {
      const { entropies } = await policy.score(trajectories.map((trajectory) => ({ prompt: trajectory.prompt, response: trajectory.response })));
      const values = entropies.flatMap((row) => Array.from(row));
      return values.reduce((a, b) => a + b, 0) / values.length;
    };
    const before = await meanEntropy();
    const config = parseRecipeConfig({ ...TINY, recipe: 'grpo', loss: { ...TINY.loss, entropyCoefficient: 1 } });
    let stats: Awaited<ReturnType<typeof updatePolicy>> | undefined;
    for (let step = 0; step < 4; step += 1) stats = await updatePolicy({ policy, trajectories, advantages, config, rng: createRng(step) });
    expect(await meanEntropy()).toBeGreaterThan(before);
    expect(stats?.entropyBonusEntropy).toBeGreaterThan(0);
    policy.dispose();
  });

  it('is refused with INVALID_CONFIG by a policy that cannot take the logits gradient', async () => {
    const gru = await createCharGruPolicy({ embeddingSize: 8, hiddenSize: 16, seed: 1 });
    const withoutBonus: RecipePolicy = Object.assign(Object.create(gru) as RecipePolicy, { supportsEntropyBonus: false });
    const { trajectories, advantages } = await flatRollouts(gru);
    const config = parseRecipeConfig({ ...TINY, recipe: 'grpo', loss: { entropyCoefficient: 0.01 } });
    await expect(updatePolicy({ policy: withoutBonus, trajectories, advantages, config, rng: createRng(0) })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(updatePolicy({ policy: gru, trajectories, advantages, config: parseRecipeConfig({ recipe: 'grpo', loss: { klCoefficient: 0.1 } }), rng: createRng(0) })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    gru.dispose();
  });
});
