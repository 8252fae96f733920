// The README's example, run as a test on a tiny model folder so it cannot rot.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeAdvantages, policyLoss } from '@aipo/core';
import { expect, it } from 'vitest';
import { createTrainer, loadModel, loadPolicy, saveCheckpoint, type LossWeightsFn, type TrajectoryBatch } from './index';
import { writeTinyModelDir } from './testing/tiny-fixtures';

it('README example: load a folder, sample a group, one GRPO/PPO-clip step with core, save', async () => {
  const { dir: modelDir } = await writeTinyModelDir({ architecture: 'qwen2', seed: 3, std: 0.2 });
  const outDir = await mkdtemp(join(tmpdir(), 'aipo-readme-'));

  // --- README example begins ---
  const policy = await loadPolicy({ modelDir }); // picks a backend: policy.backend.name / .reason
  const tokens = policy.asTokenPolicy();
  const prompt = tokens.encode(tokens.applyChatTemplate!([{ role: 'user', content: 'What is 6 x 7?' }], { addGenerationPrompt: true }));
  const samples = await Promise.all([0, 1, 2, 3].map((seed) => tokens.generate({ context: prompt, maxTokens: 16, temperature: 1, seed })));
  const rewards = Float32Array.from(samples, (s) => s.tokenIds.filter((id) => id < 128).length / s.tokenIds.length); // toy reward: your grader here

  const model = await loadModel(modelDir); // trainable copy
  const T = Math.max(...samples.map((s) => s.tokenIds.length));
  const lossMask = new Uint8Array(samples.length * T);
  const oldLogProbs = new Float32Array(samples.length * T);
  samples.forEach((s, b) => {
    lossMask.fill(1, b * T, b * T + s.tokenIds.length);
    oldLogProbs.set(s.logProbs, b * T);
  });
  const batch: TrajectoryBatch = { prompts: samples.map(() => prompt), responses: samples.map((s) => s.tokenIds), rewards, lossMask, oldLogProbs };
  const { advantages } = computeAdvantages({ estimator: 'grpo', batchSize: samples.length, sequenceLength: T, rewards, lossMask });
  const globalTokenCount = lossMask.reduce((a, b) => a + b, 0);
  // core computes ∂L/∂logp from the current log-probs of each micro-batch; the trainer backpropagates it
  const ppo: LossWeightsFn = ({ rows, logProbs }) => {
    const slice = (a: Float32Array | Uint8Array) => a.subarray(rows.start * T, rows.end * T);
    const result = policyLoss({
      loss: 'ppo-clip',
      batchSize: rows.end - rows.start,
      sequenceLength: T,
      logProbs,
      oldLogProbs: slice(oldLogProbs) as Float32Array,
      advantages: slice(advantages) as Float32Array,
      lossMask: slice(lossMask) as Uint8Array,
      globalTokenCount,
    });
    return { gradLogProbs: result.gradLogProbs, loss: result.value };
  };
  const trainer = createTrainer({ model, learningRate: 1e-5, microBatchSize: 2 });
  const metrics = await trainer.step({ batch, lossWeights: ppo });
  await saveCheckpoint({ trainer, dir: outDir, tokenizer: policy.tokenizer }); // an HF folder + optimizer state
  // --- README example ends ---

  expect(policy.backend.name).toBe('wasm');
  expect(metrics.step).toBe(1);
  expect(Number.isFinite(metrics.loss)).toBe(true);
  expect(metrics.gradNorm).toBeGreaterThan(0);
  const reloaded = await loadPolicy({ modelDir: outDir });
  expect(reloaded.tokenizer.encode('hi')).toEqual(policy.tokenizer.encode('hi'));
  reloaded.dispose();
  trainer.dispose();
  model.dispose();
  policy.dispose();
});
