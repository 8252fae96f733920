import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng, TokenSource, type TokenSourceId } from '@aipo/core';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProblem } from '../tasks/arithmetic-task';
import { createCharGruPolicy } from './char-gru-policy';
import { parseRecipeConfig, type RecipeConfigInput } from './recipe-config';
import type { RecipePolicy } from './recipe-policy';
import { BUILTIN_RECIPES, builtinRecipeConfigPath, loadRecipeConfigFile } from './load-recipe-config-file';
import { runRecipe } from './run-recipe';
import type { Trajectory } from './trajectory';
import { updatePolicy } from './update-policy';

const TINY: Omit<RecipeConfigInput, 'recipe'> = {
  seed: 3,
  model: { embeddingSize: 8, hiddenSize: 16 },
  task: { trainDifficulties: [1, 2], trainProblemsPerDifficulty: 20, evalDifficulties: [1, 3], evalProblemsPerDifficulty: 2 },
  steps: 2,
  promptsPerStep: 2,
  groupSize: 4,
  maxResponseTokens: 24,
  evaluation: { every: 0, samples: 2, k: [1, 2] },
  ilr: { peerHiddenSize: 12 },
};

const directories: string[] = [];
const tempDir = async () => {
  const directory = await mkdtemp(join(tmpdir(), 'aipo-recipe-'));
  directories.push(directory);
  return directory;
};
afterAll(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

const sequenceLogProb = async (policy: RecipePolicy, trajectory: Trajectory, source?: TokenSourceId) => {
  const { logProbs } = await policy.score([{ prompt: trajectory.prompt, response: trajectory.response }]);
  return Array.from(logProbs[0] ?? []).reduce((sum, value, t) => (source === undefined || trajectory.sources[t] === source ? sum + value : sum), 0);
};

const makeTrajectory = (policy: RecipePolicy, options: { text: string; group: number; reward: number; sources: (t: number) => TokenSourceId; old: number[] }): Trajectory => {
  const response = policy.encode(options.text);
  return {
    problem: makeProblem('2+2'),
    group: options.group,
    prompt: policy.encode('2+2=?\n'),
    response,
    sources: response.map((_, t) => options.sources(t)),
    oldLogProbs: response.map((_, t) => options.old[t] ?? Number.NaN),
    text: options.text,
    reward: options.reward,
    finishReason: 'stop',
    consultations: {},
  };
};

describe('runRecipe', () => {
  it.each(['grpo', 'luffy', 'aipo', 'ilr'] as const)('%s runs end to end and logs every metric', async (recipe) => {
    const outDir = await tempDir();
    const lines: string[] = [];
    const result = await runRecipe({ ...TINY, recipe }, { outDir, onProgress: (event) => 'line' in event && lines.push(event.line) });
    expect(result.stepsCompleted).toBe(2);
    const perStep = recipe === 'ilr' ? 2 : 1;
    expect(result.metrics).toHaveLength(2 * perStep);
    const logged = (await readFile(join(outDir, 'metrics.jsonl'), 'utf8')).trim().split('\n');
    expect(logged).toHaveLength(2 * perStep);
    for (const metric of result.metrics) {
      expect(Number.isFinite(metric.rewardMean)).toBe(true);
      expect(Number.isFinite(metric.entropy) && metric.entropy > 0).toBe(true);
      expect(metric.tokensBySource.policy).toBeGreaterThan(0);
      if (recipe === 'luffy') expect(metric.tokensBySource.offPolicy).toBeGreaterThan(0);
      else expect(metric.tokensBySource.offPolicy).toBe(0);
      if (recipe === 'ilr') expect(metric.cooperativeShare).not.toBeNull();
    }
    expect(result.evaluations).toHaveLength(perStep);
    expect(result.evaluations[0]?.evaluation.difficulties.map((entry) => entry.difficulty)).toEqual([1, 3]);
    expect(lines.some((line) => line.includes(`${recipe} step 2`))).toBe(true);
    result.policy.dispose();
    result.peer?.dispose();
  });

  it('resumes exactly: 1 step + resume 1 step equals 2 straight steps', async () => {
    const config = { ...TINY, recipe: 'aipo' as const, evaluation: { every: 0, samples: 1, k: [1] } };
    const straightDir = await tempDir();
    const straight = await runRecipe(config, { outDir: straightDir });
    const splitDir = await tempDir();
    const first = await runRecipe(config, { outDir: splitDir, stopAfterSteps: 1 });
    expect(first.stepsCompleted).toBe(1);
    first.policy.dispose();
    const resumed = await runRecipe(config, { outDir: splitDir });
    expect(resumed.stepsCompleted).toBe(2);
    expect((await resumed.policy.saveState()).weights).toEqual((await straight.policy.saveState()).weights);
    expect(await readFile(join(splitDir, 'metrics.jsonl'), 'utf8')).toSatisfy((text: string) => text.trim().split('\n').length === 2);
    straight.policy.dispose();
    resumed.policy.dispose();
  });

  it('refuses to resume a checkpoint written by another config', async () => {
    const outDir = await tempDir();
    const run = await runRecipe({ ...TINY, recipe: 'grpo', steps: 1 }, { outDir });
    run.policy.dispose();
    await expect(runRecipe({ ...TINY, recipe: 'grpo', steps: 1, seed: 4 }, { outDir })).rejects.toMatchObject({ code: 'CORRUPT_STATE' });
  });

  it('rejects bad configs with INVALID_CONFIG and honours an abort signal', async () => {
    await expect(runRecipe({ recipe: 'ppo' })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(runRecipe({ recipe: 'grpo', groupSize: 1 })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(runRecipe({ recipe: 'grpo', evaluation: { samples: 2, k: [4] } })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(runRecipe({ ...TINY, recipe: 'grpo' }, { signal: AbortSignal.abort() })).rejects.toThrow();
  });
});

describe('updatePolicy moves the policy in the direction of the reward', () => {
  const config = (recipe: 'grpo' | 'luffy' | 'aipo') => parseRecipeConfig({ ...TINY, recipe, learningRate: 0.01, loss: { updatesPerBatch: 1 } });

  it('grpo: the rewarded answer token gains probability, the unrewarded one loses it', async () => {
    const policy = await createCharGruPolicy({ embeddingSize: 8, hiddenSize: 16, seed: 5 });
    const old = async (text: string) => Array.from((await policy.score([{ prompt: policy.encode('2+2=?\n'), response: policy.encode(text) }])).logProbs[0] ?? []);
    const good = makeTrajectory(policy, { text: '\\boxed{4}', group: 0, reward: 1, sources: () => TokenSource.policy, old: await old('\\boxed{4}') });
    const bad = makeTrajectory(policy, { text: '\\boxed{5}', group: 0, reward: 0, sources: () => TokenSource.policy, old: await old('\\boxed{5}') });
    // the two rollouts share every token but the answer digit: the shared ones get +Â and −Â and cancel
    const digit = '\\boxed{'.length;
    const answerLogProb = async (trajectory: Trajectory) =>
      (await policy.score([{ prompt: trajectory.prompt, response: trajectory.response }])).logProbs[0]?.[digit] ?? Number.NaN;
    const before = [await answerLogProb(good), await answerLogProb(bad)];
    await updatePolicy({ policy, trajectories: [good, bad], advantages: [1, -1], config: config('grpo'), rng: createRng(0) });
    expect(await answerLogProb(good)).toBeGreaterThan(before[0] ?? 0);
    expect(await answerLogProb(bad)).toBeLessThan(before[1] ?? 0);
    policy.dispose();
  });

  it('luffy: a rewarded off-policy trace gains probability', async () => {
    const policy = await createCharGruPolicy({ embeddingSize: 8, hiddenSize: 16, seed: 6 });
    const trace = makeTrajectory(policy, { text: '2+2=4\n\\boxed{4}', group: 0, reward: 1, sources: () => TokenSource.offPolicy, old: [] });
    const before = await sequenceLogProb(policy, trace);
    await updatePolicy({ policy, trajectories: [trace], advantages: [1], config: config('luffy'), rng: createRng(0) });
    expect(await sequenceLogProb(policy, trace)).toBeGreaterThan(before);
    policy.dispose();
  });

  it('aipo: agent tokens of a rewarded rollout gain probability', async () => {
    const policy = await createCharGruPolicy({ embeddingSize: 8, hiddenSize: 16, seed: 7 });
    const text = '<knowledge>2+2</knowledge><result>4</result>\n\\boxed{4}';
    const start = text.indexOf('<result>');
    const end = text.indexOf('\n');
    const sources = (t: number) => (t >= start && t < end ? TokenSource.agent : TokenSource.policy);
    const old = Array.from((await policy.score([{ prompt: policy.encode('2+2=?\n'), response: policy.encode(text) }])).logProbs[0] ?? []);
    const rollout = makeTrajectory(policy, { text, group: 0, reward: 1, sources, old });
    const before = await sequenceLogProb(policy, rollout, TokenSource.agent);
    await updatePolicy({ policy, trajectories: [rollout], advantages: [1], config: config('aipo'), rng: createRng(0) });
    expect(await sequenceLogProb(policy, rollout, TokenSource.agent)).toBeGreaterThan(before);
    policy.dispose();
  });
});

describe('recipe config files', () => {
  it.each(BUILTIN_RECIPES)('%s.json validates and selects its code path', async (name) => {
    const config = await loadRecipeConfigFile(builtinRecipeConfigPath(name), { steps: 1 });
    expect(config.steps).toBe(1);
    expect(['grpo', 'luffy', 'aipo', 'ilr']).toContain(config.recipe);
  });

  it('reports unreadable and invalid files with codes', async () => {
    await expect(loadRecipeConfigFile('/nonexistent/recipe.json')).rejects.toMatchObject({ code: 'IO_ERROR' });
    const directory = await tempDir();
    const path = join(directory, 'bad.json');
    await writeFile(path, '{"recipe": "grpo", "loss": {"clipLow": -1}}');
    await expect(loadRecipeConfigFile(path)).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await writeFile(path, '{not json');
    await expect(loadRecipeConfigFile(path)).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });
});
