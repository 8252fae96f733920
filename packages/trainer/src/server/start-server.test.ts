import { AipoError } from '@aipo/core';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CausalLM } from '../model/causal-lm';
import { loadModel } from '../model/load-model';
import { computeLogits } from '../model/pack-sequences';
import { generate } from '../sampling/generate';
import { writeTinyModelDir } from '../testing/tiny-fixtures';
import { loadTokenizer, type TextTokenizer } from '../tokenizer/load-tokenizer';
import { startServer, type RunningServer } from './start-server';

let server: RunningServer;
let client: OpenAI;
/** the served model, loaded a second time in the test: the reference for full distributions */
let reference: { model: CausalLM; tokenizer: TextTokenizer };

beforeAll(async () => {
  const { dir } = await writeTinyModelDir({ architecture: 'qwen2', seed: 21, std: 0.4 });
  server = await startServer({ modelDir: dir, backend: 'wasm', port: 0 });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  reference = { model: await loadModel(dir), tokenizer: await loadTokenizer(dir) };
});

afterAll(async () => {
  await server?.close();
  reference?.model.dispose();
});

/** log-softmax of the logits that predict position `at` of `sequence` (from a full forward pass), ranked. */
async function rankedNextTokens(sequence: number[], at: number): Promise<Array<{ id: number; logProb: number }>> {
  const V = reference.model.config.vocabSize;
  const logits = await computeLogits(reference.model, [sequence]);
  const row = logits.subarray((at - 1) * V, at * V);
  const max = Math.max(...row);
  const logZ = max + Math.log(row.reduce((sum, value) => sum + Math.exp(value - max), 0));
  return Array.from(row, (value, id) => ({ id, logProb: value - logZ })).sort((x, y) => y.logProb - x.logProb || x.id - y.id);
}

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
    const badOptions = await startServer({ policy: { model: reference.model, tokenizer: reference.tokenizer }, maxBatchSize: 0 }).catch((e: unknown) => e);
    expect(AipoError.isInstance(badOptions) && badOptions.code).toBe('INVALID_ARGUMENT');
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

  it('returns the real top_logprobs alternatives in the chat format', async () => {
    const messages = [{ role: 'user' as const, content: 'pick a number' }];
    const k = 4;
    const reply = await client.chat.completions.create({ model: server.modelId, messages, max_tokens: 6, temperature: 1, seed: 31, logprobs: true, top_logprobs: k });
    const { tokenizer } = reference;
    const prompt = tokenizer.encode(tokenizer.applyChatTemplate!(messages, { addGenerationPrompt: true }));
    // the same sample in-process (the server seeds choice i with seed + i) gives the sampled token ids
    const [sampled] = await generate({ model: reference.model, decode: (ids) => tokenizer.decode(ids), requests: [{ context: prompt, maxTokens: 6, temperature: 1, seed: 31, stopTokenIds: [tokenizer.tokenToId('<|im_end|>')!] }] });
    const content = reply.choices[0]!.logprobs!.content!;
    expect(content.length).toBeGreaterThan(0);
    const sequence = [...prompt, ...sampled!.tokenIds];
    for (const [i, entry] of content.entries()) {
      expect(entry.token).toBe(tokenizer.decode([sampled!.tokenIds[i]!]));
      const ranked = await rankedNextTokens(sequence, prompt.length + i);
      expect(Math.abs(entry.logprob - ranked.find((r) => r.id === sampled!.tokenIds[i])!.logProb)).toBeLessThan(1e-4);
      expect(entry.top_logprobs).toHaveLength(k);
      expect(entry.top_logprobs.map((t) => t.token)).toEqual(ranked.slice(0, k).map((r) => tokenizer.decode([r.id])));
      for (const [j, alternative] of entry.top_logprobs.entries()) {
        expect(Math.abs(alternative.logprob - ranked[j]!.logProb)).toBeLessThan(1e-4);
        expect(alternative.bytes).toEqual([...new TextEncoder().encode(alternative.token)]);
      }
    }
    const invalid = await client.chat.completions.create({ model: server.modelId, messages, top_logprobs: 2 }).catch((e: unknown) => e);
    expect((invalid as InstanceType<typeof OpenAI.BadRequestError>).status).toBe(400);
  });

  it('returns the real top_logprobs alternatives in the completions format', async () => {
    const prompt = reference.tokenizer.encode('the answer =');
    const k = 3;
    const reply = await client.completions.create({ model: server.modelId, prompt, max_tokens: 5, temperature: 0, logprobs: k });
    const logprobs = reply.choices[0]!.logprobs!;
    const sequence = [...prompt];
    for (const [i, top] of logprobs.top_logprobs!.entries()) {
      const ranked = await rankedNextTokens(sequence, sequence.length);
      // greedy: the sampled token is the most likely one, and the map holds the k best (plus the sampled, already among them)
      expect(logprobs.tokens![i]).toBe(reference.tokenizer.decode([ranked[0]!.id]));
      const expected = new Map<string, number>();
      for (const r of ranked.slice(0, k)) if (!expected.has(reference.tokenizer.decode([r.id]))) expected.set(reference.tokenizer.decode([r.id]), r.logProb);
      expect(Object.keys(top)).toEqual([...expected.keys()]);
      for (const [token, logProb] of expected) expect(Math.abs(top[token]! - logProb)).toBeLessThan(1e-4);
      expect(Math.abs(logprobs.token_logprobs![i]! - ranked[0]!.logProb)).toBeLessThan(1e-4);
      sequence.push(ranked[0]!.id);
    }
  });

  it('batches continuously over HTTP: a short request arriving mid-stream joins the running batch and finishes first', async () => {
    const long = { model: server.modelId, prompt: 'tell me a long story', max_tokens: 40, temperature: 1 };
    // a seed whose sample runs the full 40 tokens (the end-of-sequence token is a stop token)
    let seed = 1;
    while ((await client.completions.create({ ...long, seed })).choices[0]!.finish_reason !== 'length') seed++;
    const longAlone = await client.completions.create({ ...long, seed });
    const short = { model: server.modelId, prompt: 'hi', max_tokens: 3, temperature: 1, seed: 7 };
    const shortAlone = await client.completions.create(short);

    const before = server.stats();
    const order: string[] = [];
    const stream = await client.completions.create({ ...long, seed, stream: true });
    let streamed = '';
    let chunks = 0;
    let shortReply: Promise<OpenAI.Completion> | undefined;
    for await (const chunk of stream) {
      streamed += chunk.choices[0]?.text ?? '';
      if (++chunks === 3) {
        shortReply = client.completions.create(short).then((reply) => {
          order.push('short');
          return reply;
        });
      }
    }
    order.push('long');
    const shortConcurrent = await shortReply!;
    expect(order).toEqual(['short', 'long']);
    const after = server.stats();
    expect(after.joinedRunning - before.joinedRunning).toBeGreaterThanOrEqual(1);
    expect(after.maxConcurrent).toBeGreaterThanOrEqual(2);
    // each equals the same request run alone with the same seed
    expect(streamed).toBe(longAlone.choices[0]!.text);
    expect(shortConcurrent.choices[0]!.text).toBe(shortAlone.choices[0]!.text);
  });

  it('reports prompt tokens served from a kept KV cache when a completion continues an earlier one', async () => {
    const prompt = reference.tokenizer.encode('continue this');
    const first = await client.completions.create({ model: server.modelId, prompt, max_tokens: 6, temperature: 0, logprobs: 0 });
    const generated = first.choices[0]!.logprobs!.tokens!.length;
    expect(generated).toBe(6);
    // greedy continuation: the generated ids are the argmax chain (checked against the reference model)
    const sequence = [...prompt];
    for (let i = 0; i < generated; i++) sequence.push((await rankedNextTokens(sequence, sequence.length))[0]!.id);
    const continued = [...sequence, ...reference.tokenizer.encode(' and more')];
    const second = await client.completions.create({ model: server.modelId, prompt: continued, max_tokens: 2, temperature: 0 });
    const usage = second.usage as OpenAI.CompletionUsage & { prompt_tokens_details: { cached_tokens: number } };
    expect(usage.prompt_tokens_details.cached_tokens).toBe(prompt.length + generated - 1);
  });
});
