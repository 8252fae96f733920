import * as tf from '@tensorflow/tfjs';
import { AipoError } from '@aipo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNativeMatMul } from '../backend/native-matmul';
import { selectBackend } from '../backend/select-backend';
import { writeTinyModelDir, type TinyArchitecture } from '../testing/tiny-fixtures';
import { decodeForward, type DecodeEntry } from './decode-forward';
import { DecodeKvCache, commonPrefixLength } from './decode-kv-cache';
import type { DecodeArena } from './decode-simd';
import { createDecodeWeights } from './decode-weights';
import { loadModel } from './load-model';
import { computeLogits } from './pack-sequences';

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

type MatMulPath = DecodeArena['matmulPath'];
const nativeStatus = loadNativeMatMul();
if (!nativeStatus.available) process.stderr.write(`decodeForward: the native matmul cases are skipped: ${nativeStatus.reason}\n`);

/** A tiny random model with its decode weights and an empty KV cache; `done()` frees them. */
async function setup(options: { architecture: TinyArchitecture; seed: number; std?: number; path?: MatMulPath; onBackend?: boolean }) {
  const { dir } = await writeTinyModelDir({ architecture: options.architecture, seed: options.seed, std: options.std ?? 0.1 });
  const model = await loadModel(dir);
  const path = options.path ?? 'simd';
  const cache = new DecodeKvCache(model.config, { simd: path !== 'js', native: path === 'native' });
  expect(cache.arena.matmulPath).toBe(path);
  // a limit of 0 bytes treats the model as too large for the arena: its matrices stay on the backend
  const weights = await createDecodeWeights(model, cache.arena, options.onBackend === true ? { arenaWeightLimitBytes: 0 } : {});
  expect(weights.location).toBe(options.onBackend === true ? 'backend' : 'arena');
  const done = () => {
    weights.dispose();
    model.dispose();
  };
  return { model, weights, cache, done };
}

function errorCode(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return AipoError.isInstance(error) ? error.code : `not an AipoError: ${String(error)}`;
  }
  return undefined;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe('decodeForward', () => {
  // qwen2: GQA (4 query heads, 2 kv heads) + q/k/v bias; llama: no bias; qwen2-tied: tied head; gpt2: LayerNorm, learned positions
  // matmuls: 'native' = the AVX2/FMA addon, 'simd' = the wasm SIMD kernel, 'js' = plain loops
  // everywhere (engines without wasm SIMD); the tiny models' widths (32, 48, 64, 96 and vocabularies
  // not multiples of 8) exercise the SIMD kernel's column tails
  // weights 'backend': a model too large for the arena keeps its matrices on the tfjs backend
  it.each<[TinyArchitecture, MatMulPath, 'arena' | 'backend']>([
    ['qwen2', 'simd', 'arena'],
    ['llama', 'simd', 'arena'],
    ['qwen2-tied', 'simd', 'arena'],
    ['gpt2', 'simd', 'arena'],
    ['qwen2', 'js', 'arena'],
    ['gpt2', 'js', 'arena'],
    ['qwen2', 'native', 'arena'],
    ['gpt2', 'native', 'arena'],
    ['qwen2', 'simd', 'backend'],
    ['llama', 'simd', 'backend'],
    ['qwen2-tied', 'simd', 'backend'],
    ['gpt2', 'simd', 'backend'],
  ])('%s (matmul %s, weights in the %s): prefill, mixed prefill + decode steps and resumed slots equal a from-scratch forward pass', async (architecture, path, location) => {
    if (path === 'native' && !nativeStatus.available) return;
    const { model, weights, cache, done } = await setup({ architecture, seed: 5, std: 0.3, path, onBackend: location === 'backend' });
    expect(cache.arena.kernels !== undefined).toBe(path !== 'js');
    const V = model.config.vocabSize;
    const sequences = [
      [3, 70, 12, 200, 9, 41, 5],
      [88, 7, 150],
    ];
    const slots = sequences.map(() => cache.createSlot(2)); // small: the buffers must grow
    const fromScratch = async (sequence: number[]) => {
      const all = await computeLogits(model, [sequence]);
      return all.subarray((sequence.length - 1) * V, sequence.length * V);
    };
    // step 1: both prompts in one call, every position's logits
    const entries: DecodeEntry[] = sequences.flatMap((sequence, b) => sequence.map((token, position) => ({ slot: slots[b]!, position, token, logits: true })));
    const prefill = decodeForward({ weights, cache, entries });
    const reference = await computeLogits(model, [sequences[0]!]);
    expect(maxAbsDiff(prefill.subarray(0, sequences[0]!.length * V), reference)).toBeLessThan(1e-4);
    // steps 2..4: row 0 decodes one token per step while row 1 gets three tokens at once (a resume)
    const before = tf.memory().numTensors;
    for (let step = 0; step < 3; step++) {
      sequences[0]!.push(17 + step);
      const inserted = [30 + step, 31 + step, 32 + step];
      const startOne = sequences[1]!.length;
      sequences[1]!.push(...inserted);
      const logits = decodeForward({
        weights,
        cache,
        entries: [
          { slot: slots[0]!, position: sequences[0]!.length - 1, token: sequences[0]!.at(-1)!, logits: true },
          ...inserted.map((token, i) => ({ slot: slots[1]!, position: startOne + i, token, logits: i === inserted.length - 1 })),
        ],
      });
      expect(logits.length).toBe(2 * V);
      expect(maxAbsDiff(logits.subarray(0, V), await fromScratch(sequences[0]!))).toBeLessThan(1e-4);
      expect(maxAbsDiff(logits.subarray(V), await fromScratch(sequences[1]!))).toBeLessThan(1e-4);
      expect(tf.memory().numTensors).toBe(before);
    }
    expect(slots.map((slot) => slot.tokens)).toEqual(sequences);
    expect(slots[0]!.capacity).toBeGreaterThanOrEqual(sequences[0]!.length);
    done();
  });

  it('a prefill longer than one chunk (256 rows) and more logit rows than one head matmul (64) equals a from-scratch pass', async () => {
    const { model, weights, cache, done } = await setup({ architecture: 'qwen2', seed: 9, std: 0.3 });
    const V = model.config.vocabSize;
    const sequences = Array.from({ length: 6 }, (_, b) => Array.from({ length: 50 }, (_, t) => (b * 131 + t * 17) % V));
    const slots = sequences.map(() => cache.createSlot(50));
    // every row wants logits except the first 10 of each sequence: 240 logit rows over 300 entries
    const entries: DecodeEntry[] = sequences.flatMap((sequence, b) => sequence.map((token, position) => ({ slot: slots[b]!, position, token, logits: position >= 10 })));
    const logits = decodeForward({ weights, cache, entries });
    expect(logits.length).toBe(6 * 40 * V);
    for (const [b, sequence] of sequences.entries()) {
      const reference = await computeLogits(model, [sequence]);
      expect(maxAbsDiff(logits.subarray(b * 40 * V, (b + 1) * 40 * V), reference.subarray(10 * V, 50 * V)), `sequence ${b}`).toBeLessThan(1e-4);
    }
    done();
  });

  it('sees a training update as stale weights and refuses to mix them', async () => {
    const { model, weights, cache, done } = await setup({ architecture: 'qwen2', seed: 6 });
    expect(weights.isCurrent()).toBe(true);
    const variable = model.params.get('model.norm.weight')!;
    variable.assign(tf.onesLike(variable));
    expect(weights.isCurrent()).toBe(false);
    expect(errorCode(() => decodeForward({ weights, cache, entries: [{ slot: cache.createSlot(), position: 0, token: 1, logits: true }] }))).toBe('INTERNAL');
    done();
  });

  it('keeps the matrices of a model too large for the decode memory on the backend: nothing is copied into the arena, no tensor leaks', async () => {
    const { model, cache, done } = await setup({ architecture: 'llama', seed: 8 });
    const size = cache.arena.heap().length;
    const tensors = tf.memory().numTensors;
    const onBackend = await createDecodeWeights(model, cache.arena, { arenaWeightLimitBytes: 1024 });
    expect(onBackend.location).toBe('backend');
    expect(cache.arena.heap().length).toBe(size);
    // fused q|k|v and gate|up are the only tensors it makes; dispose gives them back
    expect(tf.memory().numTensors).toBeGreaterThan(tensors);
    onBackend.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    done();
  });

  it('rejects positions past the model and gaps in a sequence', async () => {
    const { model, weights, cache, done } = await setup({ architecture: 'llama', seed: 7 });
    const slot = cache.createSlot();
    expect(errorCode(() => decodeForward({ weights, cache, entries: [{ slot, position: model.config.maxPositions, token: 1, logits: true }] }))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => decodeForward({ weights, cache, entries: [{ slot, position: 3, token: 1, logits: true }] }))).toBe('INTERNAL'); // nothing cached before position 3
    for (const token of [-1, model.config.vocabSize, 1.5]) expect(errorCode(() => decodeForward({ weights, cache, entries: [{ slot, position: 0, token, logits: true }] }))).toBe('INVALID_ARGUMENT');
    // weights built on another arena than the cache's
    const other = new DecodeKvCache(model.config);
    expect(errorCode(() => decodeForward({ weights, cache: other, entries: [{ slot: other.createSlot(), position: 0, token: 1, logits: true }] }))).toBe('INTERNAL');
    expect(() => cache.reserve(slot, model.config.maxPositions + 1)).toThrow(/positions/);
    expect(commonPrefixLength([1, 2, 3], [1, 2, 4, 5])).toBe(2);
    done();
  });
});
