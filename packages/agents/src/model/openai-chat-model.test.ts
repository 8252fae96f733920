import { AipoError } from '@aipo/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createOpenAIChatModel, parseRetryAfter } from '../index';
import { completion, type ScriptedReply, startOpenAITestServer, streamChunks } from '../testing/openai-test-server';

type Server = Awaited<ReturnType<typeof startOpenAITestServer>>;
let server: Server | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(respond: (index: number) => ScriptedReply) {
  server = await startOpenAITestServer((_request, index) => respond(index));
  return server;
}

async function caught(promise: Promise<unknown>): Promise<AipoError> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(AipoError.isInstance(error)).toBe(true);
  return error as AipoError;
}

describe('createOpenAIChatModel over real HTTP (scripted replies)', () => {
  it('sends the sampling settings and key, and reads text, usage and log-probs', async () => {
    const local = await serve(() => ({
      kind: 'json',
      body: completion('forty-two', {
        usage: [12, 3],
        logprobs: [
          { token: 'forty', logprob: -0.1 },
          { token: '-two', logprob: -0.2 },
        ],
      }),
    }));
    const model = createOpenAIChatModel({
      baseURL: local.baseURL,
      apiKey: 'sk-test',
      model: 'helper',
      defaults: { temperature: 0.7, topP: 0.8 },
    });
    const result = await model.generate([{ role: 'user', content: 'hi' }], {
      topK: 20,
      maxTokens: 64,
      stop: ['</query>'],
      seed: 7,
      logProbs: true,
    });
    expect(result).toEqual({
      text: 'forty-two',
      usage: { promptTokens: 12, completionTokens: 3 },
      finishReason: 'stop',
      logProbs: [
        { token: 'forty', logProb: -0.1 },
        { token: '-two', logProb: -0.2 },
      ],
    });
    const request = local.requests[0];
    expect(request?.path).toBe('/v1/chat/completions');
    expect(request?.headers.authorization).toBe('Bearer sk-test');
    expect(request?.body).toMatchObject({
      model: 'helper',
      temperature: 0.7,
      top_p: 0.8,
      top_k: 20,
      max_tokens: 64,
      stop: ['</query>'],
      seed: 7,
      logprobs: true,
    });
  });

  it('appends the stop string when a vLLM-style server reports it in stop_reason', async () => {
    const local = await serve(() => ({
      kind: 'json',
      body: completion('<query>is 2+2 = 4?', { stopReason: '</query>' }),
    }));
    const model = createOpenAIChatModel({ baseURL: local.baseURL, model: 'policy' });
    const result = await model.generate([{ role: 'user', content: 'q' }], { stop: ['</query>'] });
    expect(result.text).toBe('<query>is 2+2 = 4?</query>');
  });

  it('streams SSE and stops at a closing tag split across chunks, dropping what follows', async () => {
    const local = await serve(() => ({
      kind: 'sse',
      chunks: streamChunks(['Let me ask. <query agent="verify">is 6*7 = 42?</qu', 'ery> and then', ' more text']),
    }));
    const model = createOpenAIChatModel({ baseURL: local.baseURL, model: 'policy', stream: true });
    const result = await model.generate([{ role: 'user', content: 'q' }], { stop: ['</query>'] });
    expect(result.text).toBe('Let me ask. <query agent="verify">is 6*7 = 42?</query>');
    expect(result.finishReason).toBe('stop');
    expect(local.requests[0]?.body.stream).toBe(true);
  });

  it('accumulates a streamed reply delivered one character per chunk', async () => {
    const reply = 'The area is \\boxed{\\pi r^2}.';
    const local = await serve(() => ({ kind: 'sse', chunks: streamChunks([...reply], [5, 30]) }));
    const model = createOpenAIChatModel({ baseURL: local.baseURL, model: 'helper', stream: true });
    const result = await model.generate([{ role: 'user', content: 'q' }]);
    expect(result.text).toBe(reply);
    expect(result.usage).toEqual({ promptTokens: 5, completionTokens: 30 });
  });

  it('retries 429 honouring retry-after-ms, then succeeds', async () => {
    const local = await serve((index) =>
      index < 2
        ? { kind: 'json', status: 429, headers: { 'retry-after-ms': '20' }, body: { error: { message: 'slow down' } } }
        : { kind: 'json', body: completion('ok') },
    );
    const model = createOpenAIChatModel({ baseURL: local.baseURL, model: 'm', baseDelayMs: 5_000, maxRetries: 3 });
    const result = await model.generate([{ role: 'user', content: 'q' }]);
    expect(result.text).toBe('ok');
    expect(local.requests).toHaveLength(3);
  });

  it('gives up on persistent 503 after maxRetries with API_ERROR and the status', async () => {
    const local = await serve(() => ({ kind: 'json', status: 503, body: { error: { message: 'overloaded' } } }));
    const model = createOpenAIChatModel({ baseURL: local.baseURL, model: 'm', maxRetries: 2, baseDelayMs: 1 });
    const error = await caught(model.generate([{ role: 'user', content: 'q' }]));
    expect(error.code).toBe('API_ERROR');
    expect(error.details).toEqual({ status: 503 });
    expect(local.requests).toHaveLength(3);
  });

  it('does not retry a 400', async () => {
    const local = await serve(() => ({ kind: 'json', status: 400, body: { error: { message: 'bad' } } }));
    const model = createOpenAIChatModel({ baseURL: local.baseURL, model: 'm', maxRetries: 3, baseDelayMs: 1 });
    expect((await caught(model.generate([{ role: 'user', content: 'q' }]))).code).toBe('API_ERROR');
    expect(local.requests).toHaveLength(1);
  });

  it('times out a hanging server with TIMEOUT', async () => {
    const local = await serve(() => ({ kind: 'hang' }));
    let attempts = 0;
    const model = createOpenAIChatModel({
      baseURL: local.baseURL,
      model: 'm',
      timeoutMs: 150,
      maxRetries: 1,
      baseDelayMs: 1,
      fetch: (input, init) => {
        attempts++;
        return fetch(input, init);
      },
    });
    expect((await caught(model.generate([{ role: 'user', content: 'q' }]))).code).toBe('TIMEOUT');
    expect(attempts).toBe(2);
  });

  it('times out a stream that goes idle', async () => {
    const local = await serve(() => ({ kind: 'sse', chunks: streamChunks(['a', 'b']), delayMs: 1_000 }));
    const model = createOpenAIChatModel({
      baseURL: local.baseURL,
      model: 'm',
      stream: true,
      streamIdleTimeoutMs: 100,
      maxRetries: 0,
    });
    expect((await caught(model.generate([{ role: 'user', content: 'q' }]))).code).toBe('TIMEOUT');
  });

  it('aborts through an AbortSignal with ABORTED and no retry', async () => {
    const controller = new AbortController();
    // abort once the server holds the request, so the test does not depend on timing
    const local = await serve(() => {
      setImmediate(() => controller.abort());
      return { kind: 'hang' };
    });
    const model = createOpenAIChatModel({ baseURL: local.baseURL, model: 'm', maxRetries: 3 });
    expect((await caught(model.generate([{ role: 'user', content: 'q' }], {}, controller.signal))).code).toBe(
      'ABORTED',
    );
    expect(local.requests).toHaveLength(1);
  });

  it('reports a connection refused as API_ERROR after retries', async () => {
    const local = await serve(() => ({ kind: 'json', body: completion('x') }));
    const baseURL = local.baseURL;
    await local.close();
    server = undefined;
    const model = createOpenAIChatModel({ baseURL, model: 'm', maxRetries: 1, baseDelayMs: 1 });
    expect((await caught(model.generate([{ role: 'user', content: 'q' }]))).code).toBe('API_ERROR');
  });
});

describe('settings validation', () => {
  it('rejects settings that would hang or loop with INVALID_CONFIG', () => {
    const base = { baseURL: 'http://127.0.0.1:9/v1', model: 'm' };
    expect(() => createOpenAIChatModel({ ...base, timeoutMs: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
    expect(() => createOpenAIChatModel({ ...base, timeoutMs: Number.NaN })).toThrow(/timeoutMs/);
    expect(() => createOpenAIChatModel({ ...base, maxRetries: -1 })).toThrow(/maxRetries/);
    expect(() => createOpenAIChatModel({ ...base, maxRetries: 1.5 })).toThrow(/maxRetries/);
  });
});

describe('parseRetryAfter', () => {
  const headers = (entries: Record<string, string>) => new Headers(entries);
  it('reads milliseconds, seconds and HTTP dates, and ignores garbage', () => {
    expect(parseRetryAfter(headers({ 'retry-after-ms': '250' }))).toBe(250);
    expect(parseRetryAfter(headers({ 'retry-after': '2' }))).toBe(2000);
    expect(parseRetryAfter(headers({ 'retry-after': 'Thu, 01 Jan 1970 00:00:05 GMT' }), 1000)).toBe(4000);
    expect(parseRetryAfter(headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(parseRetryAfter(headers({}))).toBeUndefined();
  });
});
