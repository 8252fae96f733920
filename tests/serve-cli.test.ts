import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
// the trainer's own test fixture: a tiny random Qwen2 folder with a real tokenizer.json
import { writeTinyModelDir } from '../packages/trainer/src/testing/tiny-fixtures';
import { spawnCli } from './helpers/run-cli';

const children: Array<ReturnType<typeof spawnCli>> = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('aipo serve', () => {
  it('serves a model folder over HTTP to the openai client and stops on SIGINT', async () => {
    const { dir } = await writeTinyModelDir({ architecture: 'qwen2', seed: 3, std: 0.4 });
    const child = spawnCli(['serve', '--model', dir, '--port', '0', '--backend', 'wasm']);
    children.push(child);
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /on (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      child.on('close', (code) => reject(new Error(`aipo serve exited ${code}: ${stderr}`)));
    });
    expect(stderr).toContain('backend wasm');

    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const models = await client.models.list();
    expect(models.data).toHaveLength(1);
    const reply = await client.chat.completions.create({
      model: models.data[0]!.id,
      messages: [{ role: 'user', content: 'what is 6 times 7?' }],
      max_tokens: 8,
      seed: 1,
      logprobs: true,
    });
    expect(reply.choices[0]!.message.content?.length).toBeGreaterThan(0);
    // one log-prob per sampled token (a random byte-level model may split UTF-8 characters across tokens)
    expect(reply.choices[0]!.logprobs!.content!).toHaveLength(reply.usage!.completion_tokens);
    for (const entry of reply.choices[0]!.logprobs!.content!) expect(entry.logprob).toBeLessThanOrEqual(0);
    // top_logprobs: k alternatives per token, most likely first, the sampled token never above the best
    const alternatives = await client.chat.completions.create({
      model: models.data[0]!.id,
      messages: [{ role: 'user', content: 'and 7 times 8?' }],
      max_tokens: 4,
      seed: 2,
      logprobs: true,
      top_logprobs: 3,
    });
    for (const entry of alternatives.choices[0]!.logprobs!.content!) {
      expect(entry.top_logprobs).toHaveLength(3);
      const values = entry.top_logprobs.map((t) => t.logprob);
      expect(values).toEqual([...values].sort((a, b) => b - a));
      expect(entry.logprob).toBeLessThanOrEqual(values[0]! + 1e-6);
    }

    const bad = await fetch(`${url}/v1/chat/completions`, { method: 'POST', body: '{"messages": 3}' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');

    const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    child.kill('SIGINT');
    // the CLI's convention for every command: Ctrl-C ends with 128 + SIGINT after a clean shutdown
    expect(await exit).toBe(130);
    expect(stderr).toContain('interrupted');
    expect(stderr).not.toMatch(/Error|\[[A-Z_]+\]/);
  }, 120_000);

  it('fails with a clear error for a folder that is not a model', async () => {
    const child = spawnCli(['serve', '--model', '/nonexistent-model-dir', '--port', '0']);
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(stderr).toMatch(/aipo: .*nonexistent-model-dir.*\[[A-Z_]+\]/);
  }, 60_000);
});
