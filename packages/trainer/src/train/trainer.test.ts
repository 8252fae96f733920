import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AipoError, aggregateLoss, computeAdvantages, entropyFromLogits, entropyWithGradient } from '@aipo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/select-backend';
import { CausalLM } from '../model/causal-lm';
import { loadModel, readCheckpointTensors } from '../model/load-model';
import { computeLogits, computeLogProbs } from '../model/pack-sequences';
import { generate } from '../sampling/generate';
import { writeTinyModelDir } from '../testing/tiny-fixtures';
import { restoreCheckpoint, saveCheckpoint } from './checkpoint';
import { createLrSchedule } from './lr-schedule';
import { createTrainer, type LossWeightsFn } from './trainer';
import type { TrajectoryBatch } from './trajectory-batch';

let dir: string;
beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
  ({ dir } = await writeTinyModelDir({ architecture: 'qwen2', seed: 5, std: 0.1, jitter: 0.05 }));
});

/** A GRPO group over one prompt: the rewarded response, a penalised one, two neutral ones. */
const prompt = [10, 20, 30];
const batch: TrajectoryBatch = {
  prompts: [prompt, prompt, prompt, prompt],
  responses: [[40, 41, 42], [50, 51], [60, 61, 62], [70]],
  rewards: new Float32Array([1, 0, 0.5, 0.5]),
  groupIds: new Int32Array([0, 0, 0, 0]),
};

/**
 * Vanilla policy gradient with core: GRPO advantages, token-mean aggregation with global counts;
 * L = Σ w·(−A·logp) so ∂L/∂logp = −A·w.
 */
const grpoWeights: LossWeightsFn = ({ batch: full, rows, sequenceLength: T, logProbs }) => {
  const B = full.prompts.length;
  const lossMask = new Uint8Array(B * T);
  full.responses.forEach((r, b) => lossMask.fill(1, b * T, b * T + r.length));
  const { advantages } = computeAdvantages({ estimator: 'grpo', batchSize: B, sequenceLength: T, rewards: full.rewards!, lossMask, groupIds: full.groupIds! });
  const globalTokenCount = lossMask.reduce((a, b) => a + b, 0);
  const rowsMask = lossMask.subarray(rows.start * T, rows.end * T);
  const rowAdvantages = advantages.subarray(rows.start * T, rows.end * T);
  const values = logProbs.map((lp, i) => -rowAdvantages[i]! * lp);
  const { value, weights } = aggregateLoss({ values, mask: rowsMask, batchSize: rows.end - rows.start, sequenceLength: T, mode: 'token-mean', globalTokenCount });
  return { gradLogProbs: weights.map((w, i) => -rowAdvantages[i]! * w), loss: value };
};

/** ‖actual − expected‖₂ / ‖expected‖₂ */
function relativeL2(expected: Float32Array, actual: Float32Array): number {
  let diff = 0;
  let norm = 0;
  expected.forEach((x, i) => {
    diff += (x - actual[i]!) ** 2;
    norm += x * x;
  });
  return Math.sqrt(diff / norm);
}

describe('Trainer RL step', () => {
  it('raises log-probs of positive-advantage tokens and lowers negative ones', async () => {
    const model = await loadModel(dir);
    const trainer = createTrainer({ model, learningRate: 1e-2, optimizer: { weightDecay: 0 } });
    const before = await computeLogProbs(model, batch);
    const metrics = await trainer.step({ batch, lossWeights: grpoWeights });
    const after = await computeLogProbs(model, batch);
    const T = 3;
    const rowMean = (values: Float32Array, b: number) => {
      const n = batch.responses[b]!.length;
      let s = 0;
      for (let t = 0; t < n; t++) s += values[b * T + t]!;
      return s / n;
    };
    expect(rowMean(after, 0)).toBeGreaterThan(rowMean(before, 0) + 1e-3); // reward 1 → advantage > 0
    expect(rowMean(after, 1)).toBeLessThan(rowMean(before, 1) - 1e-3); // reward 0 → advantage < 0
    expect(metrics.step).toBe(1);
    expect(metrics.tokens).toBe(5); // the 0.5-reward rows have zero advantage
    expect(Number.isFinite(metrics.gradNorm) && metrics.gradNorm > 0).toBe(true);
    trainer.dispose();
    model.dispose();
  });

  it('accumulates micro-batches exactly (global counts) and agrees with the full batch', async () => {
    const model = await loadModel(dir);
    const full = createTrainer({ model });
    const micro = createTrainer({ model, microBatchSize: 1 });
    const a = await full.gradients({ batch, lossWeights: grpoWeights });
    const b = await micro.gradients({ batch, lossWeights: grpoWeights });
    for (const [name, expected] of a) expect(relativeL2(expected, b.get(name)!), name).toBeLessThan(1e-5); // only the float summation order differs
    full.dispose();
    micro.dispose();
    model.dispose();
  });

  it('async reads (two passes, for webgpu) give the same callback inputs, gradients and step as sync reads', async () => {
    const reference = await loadModel(dir, { trainable: false });
    const V = reference.config.vocabSize;
    const run = async (reads: 'sync' | 'async') => {
      const model = await loadModel(dir);
      const trainer = createTrainer({ model, referenceModel: reference, microBatchSize: 3, reads, learningRate: 1e-2 });
      const seen: Float32Array[] = [];
      const weights: LossWeightsFn = (input) => {
        seen.push(input.logProbs, input.refLogProbs!, input.logits!);
        const { gradLogits } = entropyWithGradient({ logits: input.logits!, vocabSize: V, upstream: new Float32Array(input.logProbs.length).fill(-0.1) });
        return { ...grpoWeights(input), gradLogits };
      };
      const grads = await trainer.gradients({ batch, lossWeights: weights, needsLogits: true });
      const before = tf.memory().numTensors;
      const metrics = await trainer.step({ batch, lossWeights: weights, needsLogits: true });
      expect(tf.memory().numTensors).toBe(before);
      const after = await computeLogProbs(model, batch);
      trainer.dispose();
      model.dispose();
      return { seen, grads, metrics, after };
    };
    const sync = await run('sync');
    const async = await run('async');
    reference.dispose();
    // deterministic kernels: the recomputed forward pass equals the first one bit for bit
    expect(async.seen).toEqual(sync.seen);
    expect(async.seen.length).toBe(12); // 2 micro-batches × (logProbs, refLogProbs, logits) × 2 calls
    for (const [name, expected] of sync.grads) expect(async.grads.get(name), name).toEqual(expected);
    expect(async.metrics).toEqual(sync.metrics);
    expect(async.after).toEqual(sync.after);
  });

  it('passes frozen reference log-probs to the callback and leaves the reference untouched', async () => {
    const model = await loadModel(dir);
    const reference = await loadModel(dir, { trainable: false });
    const trainer = createTrainer({ model, referenceModel: reference, learningRate: 1e-2 });
    const expected = await computeLogProbs(reference, batch);
    let seen: Float32Array | undefined;
    for (let i = 0; i < 2; i++) {
      await trainer.step({
        batch,
        lossWeights: (input) => {
          seen = input.refLogProbs;
          return grpoWeights(input);
        },
      });
    }
    expect(seen).toBeDefined();
    seen!.forEach((x, i) => expect(Math.abs(x - expected[i]!)).toBeLessThan(1e-6));
    const policyNow = await computeLogProbs(model, batch);
    expect(policyNow.some((x, i) => Math.abs(x - expected[i]!) > 1e-3)).toBe(true);
    trainer.dispose();
    model.dispose();
    reference.dispose();
  });

  it('takes an entropy bonus through core’s ∂H/∂logits and raises the entropy', async () => {
    const model = await loadModel(dir);
    const trainer = createTrainer({ model, learningRate: 5e-2 });
    const V = model.config.vocabSize;
    const entropyOf = async () => {
      const logits = await computeLogits(model, [[...prompt, 40, 41]]);
      return entropyFromLogits({ logits, vocabSize: V }).reduce((a, b) => a + b, 0);
    };
    const before = await entropyOf();
    await trainer.step({
      batch: { prompts: [prompt], responses: [[40, 41, 42]] },
      needsLogits: true,
      lossWeights: ({ logProbs, logits }) => {
        // maximise H: L = −Σ H_t, so the upstream gradient of each row's entropy is −1.
        const { gradLogits } = entropyWithGradient({ logits: logits!, vocabSize: V, upstream: new Float32Array(3).fill(-1) });
        return { gradLogProbs: new Float32Array(logProbs.length), gradLogits };
      },
    });
    expect(await entropyOf()).toBeGreaterThan(before);
    trainer.dispose();
    model.dispose();
  });

  it('rejects non-finite or mis-shaped weights without touching the model', async () => {
    const model = await loadModel(dir);
    const trainer = createTrainer({ model });
    const before = await model.toTensors();
    const nan = await trainer.step({ batch, lossWeights: ({ logProbs }) => ({ gradLogProbs: new Float32Array(logProbs.length).fill(Number.NaN) }) }).catch((e: unknown) => e);
    expect(AipoError.isInstance(nan) && nan.code).toBe('NON_FINITE_INPUT');
    const short = await trainer.step({ batch, lossWeights: () => ({ gradLogProbs: new Float32Array(2) }) }).catch((e: unknown) => e);
    expect(AipoError.isInstance(short) && short.code).toBe('SHAPE_MISMATCH');
    const badToken = await trainer.step({ batch: { prompts: [[1]], responses: [[1e6]] }, lossWeights: grpoWeights }).catch((e: unknown) => e);
    expect(AipoError.isInstance(badToken) && badToken.code).toBe('INVALID_ARGUMENT');
    const after = await model.toTensors();
    for (const [name, tensor] of before) expect(after.get(name)!.data).toEqual(tensor.data);
    expect(trainer.stepCount).toBe(0);
    trainer.dispose();
    model.dispose();
  });
});

describe('SFT', () => {
  it('overfits a tiny corpus with plain NLL through the same step', async () => {
    const model = await loadModel(dir);
    const trainer = createTrainer({ model, learningRate: 2e-2, optimizer: { weightDecay: 0 } });
    const corpus: TrajectoryBatch = {
      prompts: [[1], [2], [3]],
      responses: [
        [100, 101, 102, 103, 104, 105],
        [200, 201, 202, 203],
        [150, 151, 152, 153, 154],
      ],
    };
    const first = await trainer.sftStep({ batch: corpus });
    let last = first;
    for (let i = 0; i < 40; i++) last = await trainer.sftStep({ batch: corpus });
    expect(first.loss).toBeGreaterThan(4); // ≈ log V at init
    expect(last.loss).toBeLessThan(0.1);
    trainer.dispose();
    model.dispose();
  });
});

describe('checkpoints', () => {
  it('resume reproduces the next step bit for bit (weights, AdamW moments, step, RNG)', async () => {
    const schedule = createLrSchedule({ kind: 'cosine', learningRate: 1e-2, warmupSteps: 2, totalSteps: 10 });
    const modelA = await loadModel(dir);
    const trainerA = createTrainer({ model: modelA, learningRate: schedule, seed: 7 });
    await trainerA.step({ batch, lossWeights: grpoWeights });
    await trainerA.step({ batch, lossWeights: grpoWeights });
    trainerA.rng.next();
    const checkpoint = await mkdtemp(join(tmpdir(), 'aipo-ckpt-'));
    await saveCheckpoint({ trainer: trainerA, dir: checkpoint });
    const nextA = await trainerA.step({ batch, lossWeights: grpoWeights });
    const rngA = trainerA.rng.next();

    const modelB = await loadModel(checkpoint);
    const trainerB = createTrainer({ model: modelB, learningRate: schedule, seed: 999 });
    await restoreCheckpoint({ trainer: trainerB, dir: checkpoint });
    expect(trainerB.stepCount).toBe(2);
    const nextB = await trainerB.step({ batch, lossWeights: grpoWeights });
    expect(nextB).toEqual(nextA);
    expect(trainerB.rng.next()).toBe(rngA);
    const wa = await modelA.toTensors();
    const wb = await modelB.toTensors();
    for (const [name, tensor] of wa) expect(Buffer.from(wb.get(name)!.data.buffer).equals(Buffer.from(tensor.data.buffer))).toBe(true);
    for (const [name, { m }] of trainerA.optimizer.moments) {
      expect(Buffer.from((await trainerB.optimizer.moments.get(name)!.m.data()).buffer).equals(Buffer.from((await m.data()).buffer))).toBe(true);
    }
    // the checkpoint folder is also a plain HF model folder
    const saved = await readCheckpointTensors(checkpoint);
    expect(saved.get('model.layers.0.self_attn.q_proj.weight')!.shape).toEqual([32, 32]);
    expect(JSON.parse(await readFile(join(checkpoint, 'generation_config.json'), 'utf8'))).toHaveProperty('eos_token_id');
    const corrupt = await restoreCheckpoint({ trainer: trainerB, dir }).catch((e: unknown) => e);
    expect(AipoError.isInstance(corrupt) && corrupt.code).toBe('IO_ERROR');
    for (const t of [trainerA, trainerB]) t.dispose();
    modelA.dispose();
    modelB.dispose();
  });

  it('writes one JSONL metrics line per step', async () => {
    const model = await loadModel(dir);
    const metricsPath = join(await mkdtemp(join(tmpdir(), 'aipo-metrics-')), 'metrics.jsonl');
    const trainer = createTrainer({ model, metricsPath });
    await trainer.step({ batch, lossWeights: grpoWeights });
    await trainer.sftStep({ batch });
    const lines = (await readFile(metricsPath, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => line.step)).toEqual([1, 2]);
    expect(typeof lines[1]!.loss).toBe('number');
    trainer.dispose();
    model.dispose();
  });
});

describe('memory', () => {
  it('keeps the tensor count flat over 50 steps with rollouts in between', async () => {
    const model = await loadModel(dir);
    const trainer = createTrainer({ model, microBatchSize: 2, learningRate: 1e-4 });
    const counts: number[] = [];
    for (let i = 0; i < 50; i++) {
      await trainer.step({ batch, lossWeights: grpoWeights });
      if (i % 10 === 0) await computeLogProbs(model, batch);
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(counts[49]).toBe(counts[0]);
    trainer.dispose();
    model.dispose();
  });
});

describe('backends', () => {
  it('wasm (patched) and cpu compute the same gradients for the same step', async () => {
    const run = async () => {
      const model = await loadModel(dir);
      const trainer = createTrainer({ model });
      const grads = await trainer.gradients({ batch, lossWeights: grpoWeights });
      trainer.dispose();
      model.dispose();
      return grads;
    };
    const wasm = await run();
    await selectBackend({ backend: 'cpu' });
    try {
      const cpu = await run();
      expect(cpu.size).toBe(wasm.size);
      for (const [name, expected] of cpu) {
        expect(expected.some((x) => x !== 0), name).toBe(true);
        expect(relativeL2(expected, wasm.get(name)!), name).toBeLessThan(1e-4); // tfjs-perf.md measured ~1e-6 relative
      }
    } finally {
      await selectBackend({ backend: 'wasm' });
    }
  });
});

describe('createLrSchedule', () => {
  it('warms up linearly, then decays', () => {
    const cosine = createLrSchedule({ kind: 'cosine', learningRate: 1, warmupSteps: 4, totalSteps: 14, minLearningRate: 0.1 });
    expect([0, 1, 3].map(cosine)).toEqual([0.25, 0.5, 1]);
    expect(cosine(4)).toBe(1);
    expect(cosine(9)).toBeCloseTo(0.55, 10);
    expect(cosine(14)).toBeCloseTo(0.1, 10);
    expect(cosine(100)).toBeCloseTo(0.1, 10);
    const linear = createLrSchedule({ kind: 'linear', learningRate: 2, totalSteps: 4 });
    expect([0, 1, 2, 4].map(linear)).toEqual([2, 1.5, 1, 0]);
    expect(() => createLrSchedule({ kind: 'cosine', learningRate: 1 })).toThrow(AipoError);
  });
});

it('CausalLM rejects checkpoints whose shapes disagree with config.json', async () => {
  const model = await loadModel(dir);
  const tensors = await model.toTensors();
  tensors.set('model.norm.weight', { shape: [3], data: new Float32Array(3) });
  let error: unknown;
  try {
    CausalLM.fromTensors({ config: model.config, tensors });
  } catch (e) {
    error = e;
  }
  expect(AipoError.isInstance(error) && error.code).toBe('SHAPE_MISMATCH');
  model.dispose();
});

it('sampling after a step sees the updated weights of a tied head', async () => {
  const { dir: tiedDir } = await writeTinyModelDir({ architecture: 'qwen2-tied', seed: 8, std: 0.2 });
  const model = await loadModel(tiedDir);
  const trainer = createTrainer({ model, learningRate: 5e-2 });
  const decode = (ids: number[]) => ids.join(',');
  const context = [10, 20, 30];
  await generate({ model, decode, requests: [{ context, maxTokens: 4, temperature: 0 }] }); // builds the cached head
  await trainer.step({ batch, lossWeights: grpoWeights });
  const [after] = await generate({ model, decode, requests: [{ context, maxTokens: 4, temperature: 0 }] });
  const recomputed = await computeLogProbs(model, { prompts: [context], responses: [after!.tokenIds] });
  after!.logProbs.forEach((lp, t) => expect(Math.abs(lp - recomputed[t]!)).toBeLessThan(1e-4));
  trainer.dispose();
  model.dispose();
});
