import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AipoError } from '@aipo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/select-backend';
import { writeTinyModelDir } from '../testing/tiny-fixtures';
import { loadTokenizer } from '../tokenizer/load-tokenizer';
import { loadModel, readCheckpointTensors } from './load-model';
import { parseModelConfig } from './model-config';
import { computeLogits } from './pack-sequences';
import { parseSafetensors, serializeSafetensors } from './safetensors';
import { saveModel } from './save-model';

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

const rows = [[3, 1, 4, 1, 5, 9, 2, 6]];

describe('saveModel / loadModel', () => {
  it('round-trips a folder bit for bit, sharded with model.safetensors.index.json', async () => {
    const { dir } = await writeTinyModelDir({ architecture: 'llama', seed: 2 });
    const model = await loadModel(dir);
    const tokenizer = await loadTokenizer(dir);
    const out = await mkdtemp(join(tmpdir(), 'aipo-save-'));
    await saveModel({ model, dir: out, tokenizer, maxShardBytes: 20_000 });
    const files = await readdir(out);
    const shards = files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f));
    expect(shards.length).toBeGreaterThan(1);
    expect(files).toEqual(expect.arrayContaining(['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors.index.json']));
    const index = JSON.parse(await readFile(join(out, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
    expect(new Set(Object.values(index.weight_map))).toEqual(new Set(shards));
    const original = await readCheckpointTensors(dir);
    const saved = await readCheckpointTensors(out);
    expect([...saved.keys()].sort()).toEqual([...original.keys()].sort());
    for (const [name, tensor] of original) expect(saved.get(name)!.data).toEqual(tensor.data);
    const reloaded = await loadModel(out);
    expect(await computeLogits(reloaded, rows)).toEqual(await computeLogits(model, rows));
    expect((await loadTokenizer(out)).encode('the answer')).toEqual(tokenizer.encode('the answer'));
    model.dispose();
    reloaded.dispose();
  });

  it('loads GPT-2 checkpoints saved without the transformer. prefix (GPT2Model naming)', async () => {
    const { dir } = await writeTinyModelDir({ architecture: 'gpt2', seed: 4 });
    const tensors = await readCheckpointTensors(dir);
    const stripped = new Map([...tensors].map(([name, t]) => [name.replace(/^transformer\./, ''), t]));
    await writeFile(join(dir, 'model.safetensors'), serializeSafetensors({ tensors: stripped }));
    const a = await loadModel(dir);
    expect(a.params.has('transformer.h.0.attn.c_attn.weight')).toBe(true);
    a.dispose();
  });
});

describe('bad inputs', () => {
  it('corrupt safetensors, bad configs and missing files give typed errors', async () => {
    const valid = serializeSafetensors({ tensors: new Map([['w', { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }]]) });
    const cases: Array<[Uint8Array, string]> = [
      [valid.subarray(0, 5), 'CORRUPT_STATE'], // shorter than the header length
      [valid.subarray(0, valid.length - 4), 'CORRUPT_STATE'], // truncated data
      [Uint8Array.from([...new Uint8Array(new BigUint64Array([4n]).buffer), ...new TextEncoder().encode('{no}')]), 'CORRUPT_STATE'],
      [Uint8Array.from([...new Uint8Array(new BigUint64Array([10n ** 12n]).buffer)]), 'CORRUPT_STATE'],
    ];
    for (const [bytes, code] of cases) {
      let error: unknown;
      try {
        parseSafetensors(bytes);
      } catch (e) {
        error = e;
      }
      expect(AipoError.isInstance(error) && error.code).toBe(code);
    }
    expect(parseSafetensors(valid).get('w')!.data).toEqual(new Float32Array([1, 2, 3, 4]));
    const configs = [{ model_type: 'bert' }, { model_type: 'llama', vocab_size: -1 }, { model_type: 'llama', vocab_size: 8, hidden_size: 30, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 3 }, null];
    for (const config of configs) expect(() => parseModelConfig(config)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    const empty = await mkdtemp(join(tmpdir(), 'aipo-empty-'));
    await expect(loadModel(empty)).rejects.toMatchObject({ code: 'IO_ERROR' });
    await writeFile(join(empty, 'config.json'), '{broken');
    await expect(loadModel(empty)).rejects.toMatchObject({ code: 'CORRUPT_STATE' });
  });
});
