import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AipoError } from '@aipo/core';
import { readCheckpointTensors } from '../model/load-model';
import { saveModel } from '../model/save-model';
import { readSafetensors, writeSafetensors, type NamedTensor } from '../model/safetensors';
import { createRng } from '../random/seeded-rng';
import type { TextTokenizer } from '../tokenizer/load-tokenizer';
import { readJson } from '../tokenizer/load-tokenizer';
import type { Trainer } from './trainer';

const STATE_FILE = 'trainer_state.json';
const OPTIMIZER_FILE = 'optimizer.safetensors';

export interface SaveCheckpointOptions {
  /** the trainer whose model, optimizer, step and RNG are saved */
  trainer: Trainer;
  /** output folder: a normal HF model folder plus optimizer.safetensors and trainer_state.json */
  dir: string;
  /** tokenizer files to include (so the folder also serves / evaluates) */
  tokenizer?: TextTokenizer;
}

/**
 * Save everything the next step depends on: weights (f32, HF layout), AdamW moments, the update
 * count and the trainer RNG state. Restoring into a trainer built with the same options reproduces
 * the next step bit for bit (the step itself has no other randomness).
 */
export async function saveCheckpoint({ trainer, dir, tokenizer }: SaveCheckpointOptions): Promise<void> {
  await saveModel({ model: trainer.model, dir, ...(tokenizer === undefined ? {} : { tokenizer }), dtype: 'F32' });
  const moments = new Map<string, NamedTensor>();
  for (const [name, { m, v }] of trainer.optimizer.moments) {
    moments.set(`m.${name}`, { shape: m.shape, data: new Float32Array((await m.data()) as Float32Array) });
    moments.set(`v.${name}`, { shape: v.shape, data: new Float32Array((await v.data()) as Float32Array) });
  }
  await writeSafetensors(join(dir, OPTIMIZER_FILE), { tensors: moments, metadata: { format: 'aipo-adamw' } });
  const state = { version: 1, step: trainer.optimizer.step, rngState: trainer.rng.state(), modelType: trainer.model.config.modelType };
  try {
    await writeFile(join(dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
  } catch (cause) {
    throw new AipoError({ code: 'IO_ERROR', message: `cannot write ${join(dir, STATE_FILE)}`, cause });
  }
}

/** Restore weights, AdamW moments, step and RNG from a folder written by `saveCheckpoint`. */
export async function restoreCheckpoint({ trainer, dir }: { trainer: Trainer; dir: string }): Promise<void> {
  const state = (await readJson(join(dir, STATE_FILE))) as { version?: unknown; step?: unknown; rngState?: unknown };
  if (state.version !== 1 || !Number.isInteger(state.step) || !Array.isArray(state.rngState) || state.rngState.length !== 4) {
    throw new AipoError({ code: 'CORRUPT_STATE', message: `${join(dir, STATE_FILE)} is not an aipo trainer state (version 1)` });
  }
  trainer.model.assignTensors(await readCheckpointTensors(dir));
  const moments = await readSafetensors(join(dir, OPTIMIZER_FILE));
  for (const [name, { m, v }] of trainer.optimizer.moments) {
    const savedM = moments.get(`m.${name}`);
    const savedV = moments.get(`v.${name}`);
    if (savedM === undefined || savedV === undefined || savedM.data.length !== m.size || savedV.data.length !== v.size) {
      throw new AipoError({ code: 'CORRUPT_STATE', message: `optimizer state for ${name} is missing or has the wrong size` });
    }
    tf.tidy(() => {
      m.assign(tf.tensor(savedM.data, m.shape));
      v.assign(tf.tensor(savedV.data, v.shape));
    });
  }
  trainer.optimizer.step = state.step as number;
  trainer.rng = createRng({ state: state.rngState as number[] });
}
