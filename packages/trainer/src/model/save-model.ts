import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AipoError } from '@aipo/core';
import type { TextTokenizer } from '../tokenizer/load-tokenizer';
import type { CausalLM } from './causal-lm';
import { writeSafetensors, type NamedTensor, type SafetensorsDtype } from './safetensors';

export interface SaveModelOptions {
  /** the model to write */
  model: CausalLM;
  /** output folder (created) */
  dir: string;
  /** tokenizer files to copy alongside (tokenizer.json, tokenizer_config.json) */
  tokenizer?: TextTokenizer;
  /** storage dtype (default F32) */
  dtype?: SafetensorsDtype;
  /** shard when the weights exceed this many bytes (default: never) */
  maxShardBytes?: number;
}

/**
 * Write a folder Hugging Face tools read back: config.json, model.safetensors (or shards plus
 * model.safetensors.index.json, as `save_pretrained`), generation_config.json, tokenizer files.
 */
export async function saveModel({ model, dir, tokenizer, dtype = 'F32', maxShardBytes }: SaveModelOptions): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    const config = { ...model.config.raw, torch_dtype: dtype === 'F32' ? 'float32' : dtype === 'F16' ? 'float16' : 'bfloat16' };
    await writeFile(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    const generation: Record<string, unknown> = { _from_model_config: true };
    if (model.config.bosTokenId !== undefined) generation.bos_token_id = model.config.bosTokenId;
    if (model.config.eosTokenIds.length > 0) generation.eos_token_id = model.config.eosTokenIds.length === 1 ? model.config.eosTokenIds[0] : model.config.eosTokenIds;
    await writeFile(join(dir, 'generation_config.json'), `${JSON.stringify(generation, null, 2)}\n`);
    if (tokenizer !== undefined) {
      await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer.files.tokenizer));
      await writeFile(join(dir, 'tokenizer_config.json'), `${JSON.stringify(tokenizer.files.config, null, 2)}\n`);
    }
  } catch (cause) {
    throw new AipoError({ code: 'IO_ERROR', message: `cannot write model folder ${dir}`, cause, details: { dir } });
  }
  const tensors = await model.toTensors();
  const bytesPer = dtype === 'F32' ? 4 : 2;
  const shards: Map<string, NamedTensor>[] = [new Map()];
  let current = 0;
  for (const [name, tensor] of tensors) {
    const size = tensor.data.length * bytesPer;
    if (maxShardBytes !== undefined && current > 0 && current + size > maxShardBytes) {
      shards.push(new Map());
      current = 0;
    }
    shards[shards.length - 1]!.set(name, tensor);
    current += size;
  }
  if (shards.length === 1) {
    await writeSafetensors(join(dir, 'model.safetensors'), { tensors: shards[0]!, dtype });
    return;
  }
  const weightMap: Record<string, string> = {};
  let totalSize = 0;
  for (const [index, shard] of shards.entries()) {
    const file = `model-${String(index + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
    await writeSafetensors(join(dir, file), { tensors: shard, dtype });
    for (const [name, tensor] of shard) {
      weightMap[name] = file;
      totalSize += tensor.data.length * bytesPer;
    }
  }
  await writeFile(join(dir, 'model.safetensors.index.json'), `${JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2)}\n`);
}
