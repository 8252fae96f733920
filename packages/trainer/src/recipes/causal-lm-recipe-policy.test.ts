import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng, entropyFromLogits } from '@aipo/core';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../model/load-model';
import { computeLogits } from '../model/pack-sequences';
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

  it('takes the entropy bonus through the trainer’s logits gradient (exact across micro-batches)', async () => {
    const { dir } = await writeTinyModelDir({ architecture: 'qwen2', seed: 3 });
    directories.push(dir);
    const [model, tokenizer] = [await loadModel(dir), await loadTokenizer(dir)];
    const policy = createCausalLmRecipePolicy({ model, tokenizer, microBatchSize: 1 });
    const sequences = ['1+2=?\n', '4-1=?\n'].map((prompt) => ({ prompt: policy.encode(prompt), response: policy.encode('33') }));
    const entropy = async () => {
      const rows = sequences.map((sequence) => [...sequence.prompt, ...sequence.response]);
      const logits = await computeLogits(model, rows);
      const values = entropyFromLogits({ logits, vocabSize: model.config.vocabSize });
      return values.reduce((a, b) => a + b, 0) / values.length;
    };
    const before = await entropy();
    const mask = sequences.map((sequence) => new Uint8Array(sequence.response.length).fill(1));
    for (let step = 0; step < 3; step += 1) {
      await policy.trainStep({
        sequences,
        weights: sequences.map((sequence) => new Float32Array(sequence.response.length)),
        learningRate: 0.02,
        entropyBonus: { coefficient: 1, mask, aggregation: 'token-mean', normConstant: 2 },
      });
    }
    expect(await entropy()).toBeGreaterThan(before);
    // the same steps on the whole batch at once give the same weights (global counts, exact accumulation)
    const whole = createCausalLmRecipePolicy({ model: await loadModel(dir), tokenizer });
    for (let step = 0; step < 3; step += 1) {
      await whole.trainStep({
        sequences,
        weights: sequences.map((sequence) => new Float32Array(sequence.response.length)),
        learningRate: 0.02,
        entropyBonus: { coefficient: 1, mask, aggregation: 'token-mean', normConstant: 2 },
      });
    }
    const [split, joined] = [(await policy.saveState()).weights, (await whole.saveState()).weights];
    for (const [name, { values }] of Object.entries(joined)) {
      const other = split[name]?.values ?? [];
      expect(Math.max(...values.map((value, index) => Math.abs(value - (other[index] ?? Number.NaN))))).toBeLessThan(1e-4);
    }
    policy.dispose();
    whole.dispose();
  });

  it('exports the trained policy as a HF folder that loads back to the same model', async () => {
    const policy = await load();
    const sequences = [{ prompt: policy.encode('1+2=?\n'), response: policy.encode('3') }];
    await policy.trainStep({ sequences, weights: [new Float32Array(1).fill(-1)], learningRate: 0.05 });
    const dir = await mkdtemp(join(tmpdir(), 'aipo-hf-export-'));
    directories.push(dir);
    await policy.exportHfFolder?.(dir);
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    const reloaded = createCausalLmRecipePolicy({ model: await loadModel(dir), tokenizer: await loadTokenizer(dir), modelId: 'tiny-qwen2' });
    // the trained step is in the export: same weights, same tokenizer, same log-probs
    expect((await reloaded.saveState()).weights).toEqual((await policy.saveState()).weights);
    const probe = [{ prompt: policy.encode('5-3=?\n'), response: policy.encode('5-3=2') }];
    expect(reloaded.encode('5-3=?\n')).toEqual(probe[0]?.prompt);
    expect((await reloaded.score(probe)).logProbs).toEqual((await policy.score(probe)).logProbs);
    policy.dispose();
    reloaded.dispose();
  });
});
