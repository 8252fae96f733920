import { rm } from 'node:fs/promises';
import { createRng } from '@aipo/core';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../model/load-model';
import { loadTokenizer } from '../tokenizer/load-tokenizer';
import { writeTinyModelDir } from '../testing/tiny-fixtures';
import { createCausalLmRecipePolicy } from './causal-lm-recipe-policy';
import { runRecipe } from './run-recipe';

// The recipes on the trainer's transformer (a tiny random Qwen2 written as a HF folder, loaded
// with the real safetensors + tokenizer loaders): the path a real checkpoint takes.
const directories: string[] = [];
afterAll(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

const load = async () => {
  const { dir } = await writeTinyModelDir({ architecture: 'qwen2', seed: 3 });
  directories.push(dir);
  // loadModel (trainable weights), not loadPolicy (inference-only weights)
  return createCausalLmRecipePolicy({ model: await loadModel(dir), tokenizer: await loadTokenizer(dir), modelId: 'tiny-qwen2' });
};

describe('createCausalLmRecipePolicy', () => {
  it('sampled log-probs match scored ones, and a positive weight raises a token’s probability', async () => {
    const policy = await load();
    const context = policy.encode('1+2=?\n');
    const [sample] = await policy.sample({ contexts: [context], maxTokens: 4, temperature: 1, rng: createRng(1) });
    expect(sample?.tokenIds.length).toBeGreaterThan(0);
    const scored = await policy.score([{ prompt: context, response: sample?.tokenIds ?? [] }]);
    for (const [t, logProb] of (sample?.logProbs ?? []).entries()) expect(scored.logProbs[0]?.[t]).toBeCloseTo(logProb, 3);
    const target = [{ prompt: context, response: policy.encode('3') }];
    const before = (await policy.score(target)).logProbs[0]?.[0] ?? Number.NaN;
    await policy.trainStep({ sequences: target, weights: [new Float32Array(target[0]?.response.length ?? 0).fill(-1)], learningRate: 0.05 });
    expect((await policy.score(target)).logProbs[0]?.[0]).toBeGreaterThan(before);
    policy.dispose();
  });

  it('runs a recipe end to end and restores its state exactly', async () => {
    const policy = await load();
    const result = await runRecipe(
      {
        recipe: 'aipo',
        steps: 1,
        promptsPerStep: 1,
        groupSize: 2,
        maxResponseTokens: 6,
        task: { trainDifficulties: [1], trainProblemsPerDifficulty: 4, evalDifficulties: [1], evalProblemsPerDifficulty: 1 },
        evaluation: { every: 0, samples: 2, k: [1, 2] },
      },
      { policy },
    );
    expect(result.metrics[0]?.tokensBySource.policy).toBeGreaterThan(0);
    expect(result.evaluations).toHaveLength(1);
    const state = await policy.saveState();
    const other = await load();
    await other.loadState(state);
    const probe = [{ prompt: policy.encode('5-3=?\n'), response: policy.encode('5-3=2') }];
    expect((await other.score(probe)).logProbs).toEqual((await policy.score(probe)).logProbs);
    policy.dispose();
    other.dispose();
  });
});
