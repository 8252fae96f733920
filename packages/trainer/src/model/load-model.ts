import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { AipoError } from '@aipo/core';
import { readJson } from '../tokenizer/load-tokenizer';
import { CausalLM } from './causal-lm';
import { parseModelConfig } from './model-config';
import { readSafetensors, type NamedTensor } from './safetensors';

export interface LoadModelOptions {
  /** the weights receive gradients (default true; false for frozen reference models) */
  trainable?: boolean;
}

/**
 * Load a Hugging Face model folder: `config.json` plus `model.safetensors`, or the shards listed in
 * `model.safetensors.index.json` (`weight_map`: tensor → file). f32/f16/bf16 all load as f32.
 */
export async function loadModel(dir: string, { trainable = true }: LoadModelOptions = {}): Promise<CausalLM> {
  const config = parseModelConfig(await readJson(join(dir, 'config.json')));
  const tensors = await readCheckpointTensors(dir);
  return CausalLM.fromTensors({ config, tensors, trainable });
}

/** All tensors of a folder's single or sharded safetensors checkpoint. */
export async function readCheckpointTensors(dir: string): Promise<Map<string, NamedTensor>> {
  const indexPath = join(dir, 'model.safetensors.index.json');
  if (await exists(indexPath)) {
    const index = (await readJson(indexPath)) as { weight_map?: unknown };
    const weightMap = index.weight_map;
    if (typeof weightMap !== 'object' || weightMap === null) {
      throw new AipoError({ code: 'CORRUPT_STATE', message: `${indexPath} has no weight_map` });
    }
    const files = [...new Set(Object.values(weightMap as Record<string, unknown>))];
    const tensors = new Map<string, NamedTensor>();
    for (const file of files) {
      if (typeof file !== 'string' || file.includes('/') || file.includes('\\')) {
        throw new AipoError({ code: 'CORRUPT_STATE', message: `${indexPath} names an invalid shard ${JSON.stringify(file)}` });
      }
      for (const [name, tensor] of await readSafetensors(join(dir, file))) tensors.set(name, tensor);
    }
    return tensors;
  }
  const single = join(dir, 'model.safetensors');
  if (!(await exists(single))) {
    throw new AipoError({ code: 'IO_ERROR', message: `${dir} has neither model.safetensors nor model.safetensors.index.json`, details: { dir } });
  }
  return readSafetensors(single);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
