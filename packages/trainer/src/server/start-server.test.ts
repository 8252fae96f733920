import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyModelDir } from '../testing/tiny-fixtures';
import { startServer, type RunningServer } from './start-server';

let server: RunningServer;
let client: OpenAI;

beforeAll(async () => {
  const { dir } = await writeTinyModelDir({ architecture: 'qwen2', seed: 21, std: 0.4 });
  server = await startServer({ modelDir: dir, backend: 'wasm', port: 0 });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await server?.close();
});

describe('startServer through the openai client', () => {
  it('lists the model and reports the backend it chose', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([server.modelId]);
    expect(server.backend?.name).toBe('wasm');
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers chat completions with n, seed and logprobs', async () => {
    const request = {
      model: server.modelId,
      messages: [{ role: 'user' as const, content: 'what is 6 times 7?' }],
      max_tokens: 12,
      temperature: 1,
      seed: 5,
      n: 2,
      logprobs: true,
    };
    const a = await client.chat.completions.create(request);
    const b = await client.chat.completions.create(request);
    expect(a.object).toBe('chat.completion');
    expect(a.choices).toHaveLength(2);
    expect(a.choices.map((c) => c.message.content)).toEqual(b.choices.map((c) => c.message.content)); // seeded
    expect(a.choices[0]!.message.content).not.toEqual(a.choices[1]!.message.content); // n samples differ (seed + index)
    for (const choice of a.choices) {
      expect(['stop', 'length']).toContain(choice.finish_reason);
      const logprobs = choice.logprobs!.content!;
      expect(logprobs.length).toBeGreaterThan(0);
      expect(logprobs.map((l) => l.token).join('')).toBe(choice.message.content);
      for (const l of logprobs) expect(l.logprob).toBeLessThanOrEqual(0);
    }
    expect(a.usage!.completion_tokens).toBeGreaterThan(0);
    expect(a.usage!.total_tokens).toBe(a.usage!.prompt_tokens + a.usage!.completion_tokens);
  });

  it('streams the same text as the non-streaming call (SSE)', async () => {
    const request = { model: server.modelId, messages: [{ role: 'user' as const, content: 'stream please' }], max_tokens: 16, temperature: 0.8, seed: 11 };
    const whole = await client.chat.completions.create(request);
    const stream = await client.chat.completions.create({ ...request, stream: true });
    let text = '';
    let chunks = 0;
    let finish: string | null = null;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(chunks).toBeGreaterThan(2);
    expect(text).toBe(whole.choices[0]!.message.content);
    expect(finish).toBe(whole.choices[0]!.finish_reason);
  });

  it('serves /v1/completions with stop strings cut from the text, and streams them too', async () => {
    const base = { model: server.modelId, prompt: 'the answer =', max_tokens: 20, temperature: 0 };
    const free = await client.completions.create(base);
    const text = free.choices[0]!.text;
    expect(text.length).toBeGreaterThan(4);
    const stop = text.slice(3, 5);
    const stopped = await client.completions.create({ ...base, stop: [stop], logprobs: 1 });
    expect(stopped.choices[0]!.finish_reason).toBe('stop');
    expect(stopped.choices[0]!.text).toBe(text.slice(0, text.indexOf(stop)));
    expect(stopped.choices[0]!.logprobs!.token_logprobs!.length).toBeGreaterThan(0);
    const stream = await client.completions.create({ ...base, stop: [stop], stream: true });
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.text ?? '';
    expect(streamed).toBe(stopped.choices[0]!.text);
  });

  it('returns OpenAI-style errors with the right status', async () => {
    const invalid = await client.chat.completions.create({ model: server.modelId, messages: [{ role: 'user', content: 'x' }], temperature: 7 }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(OpenAI.BadRequestError);
    expect((invalid as InstanceType<typeof OpenAI.BadRequestError>).status).toBe(400);
    expect((invalid as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('temperature');
    const unknown = await client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect((unknown as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
    const raw = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', body: '{not json', headers: { 'content-type': 'application/json' } });
    expect(raw.status).toBe(400);
    const body = (await raw.json()) as { error: { message: string; type: string } };
    expect(body.error.type).toBe('invalid_request_error');
    const missing = await fetch(`${server.url}/v1/embeddings`, { method: 'POST', body: '{}' });
    expect(missing.status).toBe(404);
    const method = await fetch(`${server.url}/v1/completions`);
    expect(method.status).toBe(405);
    const tooLong = await client.completions.create({ model: server.modelId, prompt: Array.from({ length: 80 }, () => 5), max_tokens: 2 }).catch((e: unknown) => e);
    expect((tooLong as InstanceType<typeof OpenAI.BadRequestError>).status).toBe(400);
  });

  it('batches concurrent requests', async () => {
    const before = server.stats();
    const prompts = ['one', 'two two', 'three three three', 'four', 'five'];
    // a long request keeps the model busy; the others queue behind it and share the next batch
    const busy = client.completions.create({ model: server.modelId, prompt: 'busy', max_tokens: 48, temperature: 0 });
    const answers = await Promise.all(prompts.map((prompt) => client.completions.create({ model: server.modelId, prompt, max_tokens: 6, temperature: 0 })));
    await busy;
    const after = server.stats();
    expect(after.requests - before.requests).toBe(prompts.length + 1);
    expect(after.batches - before.batches).toBeLessThan(prompts.length + 1);
    // batched answers equal one-at-a-time answers
    for (const [i, prompt] of prompts.entries()) {
      const alone = await client.completions.create({ model: server.modelId, prompt, max_tokens: 6, temperature: 0 });
      expect(answers[i]!.choices[0]!.text).toBe(alone.choices[0]!.text);
    }
  });
});
