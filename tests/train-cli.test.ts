import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
// the trainer's own test fixture: a tiny random model folder with a real tokenizer.json
import { writeTinyModelDir } from '../packages/trainer/src/testing/tiny-fixtures';
import { runCli, spawnCli } from './helpers/run-cli';

async function metricSteps(dir: string): Promise<number[]> {
  const lines = (await readFile(join(dir, 'metrics.jsonl'), 'utf8')).trim().split('\n');
  return lines.map((line) => (JSON.parse(line) as { step: number }).step);
}

describe('aipo train', () => {
  it('runs the aipo recipe on wasm, survives SIGKILL and resumes from its checkpoint', async () => {
    const out = await mkdtemp(join(tmpdir(), 'aipo-train-'));
    const config = join(out, 'aipo-small.json');
    await writeFile(
      config,
      JSON.stringify({ recipe: 'aipo', seed: 3, steps: 3, checkpointEvery: 1, evaluation: { every: 3, samples: 4, k: [1, 4] }, aipo: { maxConsultations: 2 } }),
    );
    const args = ['train', '--config', config, '--backend', 'wasm', '--out', out];

    // kill the run as soon as the step-1 checkpoint exists
    const child = spawnCli(args);
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const killed = new Promise<string | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
    while (!existsSync(join(out, 'checkpoint.json')) && child.exitCode === null) await sleep(50);
    child.kill('SIGKILL');
    expect(await killed, stderr).toBe('SIGKILL');
    expect(stdout).not.toContain('done:');

    const resumed = await runCli(args);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('backend wasm');
    expect(resumed.stdout).toMatch(/aipo step 3 \| reward/);
    expect(resumed.stdout).not.toMatch(/aipo step 1 \| reward/); // resumed, not restarted
    expect(resumed.stdout).toContain('done: 3 steps');
    expect(await metricSteps(out)).toEqual([1, 2, 3]);
  }, 240_000);

  it('trains a Hugging Face folder (tiny random Qwen2 with a real tokenizer.json) through --model', async () => {
    const { dir } = await writeTinyModelDir({ architecture: 'qwen2', seed: 3, std: 0.4 });
    const out = await mkdtemp(join(tmpdir(), 'aipo-train-hf-'));
    const config = join(out, 'grpo-tiny.json');
    await writeFile(
      config,
      JSON.stringify({ recipe: 'grpo', seed: 1, steps: 2, promptsPerStep: 2, groupSize: 2, maxResponseTokens: 8, evaluation: { every: 2, samples: 2, k: [1, 2] }, task: { evalProblemsPerDifficulty: 2 } }),
    );
    // β > 0: the KL reference is a second, frozen copy of the folder
    const result = await runCli(['train', '--config', config, '--model', dir, '--backend', 'wasm', '--micro-batch-size', '2', '--kl-coefficient', '0.04', '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/grpo step 2 \| reward .* ref \d/);
    expect(result.stdout).toContain('done: 2 steps');
    expect(await metricSteps(out)).toEqual([1, 2]);
    const lines = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.every((line) => typeof (JSON.parse(line) as { klReference: unknown }).klReference === 'number')).toBe(true);

    // the trained weights come back out as a folder HF tools read, and load back into the trainer
    const exported = join(out, 'hf-model');
    expect(result.stdout).toContain(`model: ${exported} (Hugging Face folder)`);
    expect((await readdir(exported)).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    const { loadModel } = await import('../packages/trainer/src/model/load-model');
    const [original, trained] = [await loadModel(dir), await loadModel(exported)];
    expect(JSON.parse(await readFile(join(exported, 'config.json'), 'utf8'))).toMatchObject({ model_type: 'qwen2' });
    expect([...trained.params.keys()]).toEqual([...original.params.keys()]);
    // RL moved the weights: the export is the trained model, not a copy of the input folder
    const differs = await Promise.all([...trained.params].map(async ([name, tensor]) => {
      const before = await original.params.get(name)?.data();
      const after = await tensor.data();
      return before !== undefined && after.some((value, index) => value !== before[index]);
    }));
    expect(differs.some(Boolean)).toBe(true);
    original.dispose();
    trained.dispose();
  }, 180_000);

  it('refuses --export-hf without --model, before training', async () => {
    const result = await runCli(['train', '--recipe', 'grpo', '--export-hf', join(tmpdir(), 'aipo-never-hf'), '--out', join(tmpdir(), 'aipo-never')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--export-hf needs --model');
  }, 60_000);

  it('rejects an unknown recipe with the available names', async () => {
    const result = await runCli(['train', '--recipe', 'ppo-but-typo', '--out', join(tmpdir(), 'aipo-never')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/unknown recipe "ppo-but-typo" \(available: grpo, dr-grpo, dapo, luffy, aipo, ilr\) \[UNKNOWN_ENTRY\]/);
  }, 60_000);
});
