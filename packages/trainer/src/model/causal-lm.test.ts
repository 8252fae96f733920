import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/select-backend';
import { referenceLogits, referenceLogSoftmax } from '../testing/reference-forward';
import { writeTinyModelDir, type TinyArchitecture } from '../testing/tiny-fixtures';
import { loadModel, readCheckpointTensors } from './load-model';
import { computeLogits, computeLogProbs } from './pack-sequences';

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

const architectures: TinyArchitecture[] = ['llama', 'qwen2', 'qwen2-tied', 'gpt2'];

describe.each(architectures)('CausalLM %s vs an independent float64 implementation', (architecture) => {
  let dir: string;
  beforeAll(async () => {
    ({ dir } = await writeTinyModelDir({ architecture, seed: 7, std: 0.3, jitter: 0.2 }));
  });

  it('logits and per-token log-probs match within 1e-4', async () => {
    const model = await loadModel(dir);
    const tensors = await readCheckpointTensors(dir);
    const rows = [
      [5, 17, 200, 3, 99, 42, 7, 250],
      [1, 2, 3, 4, 5, 6, 7, 8],
    ];
    const logits = await computeLogits(model, rows);
    const V = model.config.vocabSize;
    const L = rows[0]!.length;
    let maxDiff = 0;
    let spread = 0;
    for (const [b, row] of rows.entries()) {
      const reference = referenceLogits(model.config, tensors, row);
      for (let t = 0; t < L; t++) {
        for (let v = 0; v < V; v++) {
          maxDiff = Math.max(maxDiff, Math.abs(logits[(b * L + t) * V + v]! - reference[t]![v]!));
          spread = Math.max(spread, Math.abs(reference[t]![v]!));
        }
      }
    }
    expect(spread).toBeGreaterThan(0.5); // the random model is far from uniform, so the check has teeth
    expect(maxDiff).toBeLessThan(1e-4);

    // Log-probs of responses of different lengths (right padding must not leak into shorter rows).
    const prompts = [[5, 17, 200], [1, 2]];
    const responses = [[3, 99, 42, 7, 250], [3, 4]];
    const logProbs = await computeLogProbs(model, { prompts, responses });
    const T = 5;
    expect(logProbs.length).toBe(2 * T);
    for (let b = 0; b < 2; b++) {
      const full = [...prompts[b]!, ...responses[b]!];
      const reference = referenceLogits(model.config, tensors, full);
      for (let t = 0; t < T; t++) {
        if (t >= responses[b]!.length) {
          expect(logProbs[b * T + t]).toBe(0);
          continue;
        }
        const position = prompts[b]!.length - 1 + t;
        const expected = referenceLogSoftmax(reference[position]!)[responses[b]![t]!]!;
        expect(Math.abs(logProbs[b * T + t]! - expected)).toBeLessThan(1e-4);
      }
    }
    model.dispose();
  });
});

describe('checkpoint dtypes', () => {
  it('bf16 and f16 checkpoints load as f32 with the rounding of their dtype', async () => {
    const { dir: f32 } = await writeTinyModelDir({ architecture: 'llama', seed: 3 });
    const { dir: bf16 } = await writeTinyModelDir({ architecture: 'llama', seed: 3, dtype: 'BF16' });
    const { dir: f16 } = await writeTinyModelDir({ architecture: 'llama', seed: 3, dtype: 'F16' });
    const a = await readCheckpointTensors(f32);
    const b = await readCheckpointTensors(bf16);
    const h = await readCheckpointTensors(f16);
    const name = 'model.layers.0.self_attn.q_proj.weight';
    const exact = a.get(name)!.data;
    const fromBf16 = b.get(name)!.data;
    const fromF16 = h.get(name)!.data;
    let bfErr = 0;
    let fErr = 0;
    for (let i = 0; i < exact.length; i++) {
      bfErr = Math.max(bfErr, Math.abs(exact[i]! - fromBf16[i]!) / Math.max(Math.abs(exact[i]!), 1e-3));
      fErr = Math.max(fErr, Math.abs(exact[i]! - fromF16[i]!) / Math.max(Math.abs(exact[i]!), 1e-3));
    }
    expect(bfErr).toBeGreaterThan(0); // really converted, not a copy
    expect(bfErr).toBeLessThan(2 ** -8); // bf16 keeps 8 significant bits
    expect(fErr).toBeLessThan(2 ** -10);
    expect(fErr).toBeLessThan(bfErr);
  });
});

afterAll(() => {
  expect(tf.getBackend()).toBe('wasm');
});
