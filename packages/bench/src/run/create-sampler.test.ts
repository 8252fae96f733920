import { afterEach, describe, expect, it } from 'vitest';
import { type OpenAiServer, type ScriptedReply, startOpenAiServer } from '../test/start-openai-server';
import { createSampler } from './create-sampler';

let server: OpenAiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const request = { messages: [{ role: 'user' as const, content: 'q' }], sampling: { temperature: 0.6, maxTokens: 16 }, seed: 7 };

async function sampleAfter(fault: ScriptedReply, overrides: Partial<Parameters<typeof createSampler>[0]> = {}) {
  server = await startOpenAiServer({ respond: ({ attempt }) => (attempt === 1 ? fault : { kind: 'reply', content: 'answer' }) });
  const sampler = createSampler({ baseURL: server.url, model: 'm', timeoutMs: 2000, backoffBaseMs: 5, ...overrides });
  return { outcome: await sampler.sample(request), sampler };
}

describe('createSampler over real HTTP', () => {
  it('sends model, sampling settings and seed, and returns the reply with usage', async () => {
    let body: Record<string, unknown> = {};
    server = await startOpenAiServer({
      respond: (scripted) => {
        body = scripted.body;
        return { kind: 'reply', content: 'hello', completionTokens: 3 };
      },
    });
    const sampler = createSampler({ baseURL: server.url, model: 'm' });
    const outcome = await sampler.sample({ ...request, sampling: { ...request.sampling, topP: 0.95, extraBody: { top_k: 20 } } });
    expect(body).toMatchObject({ model: 'm', temperature: 0.6, top_p: 0.95, max_tokens: 16, seed: 7, top_k: 20 });
    expect(outcome).toMatchObject({ status: 'ok', text: 'hello', finishReason: 'stop', usage: { completionTokens: 3 }, attempts: 1 });
  });

  it.each([
    ['429 retry-after-ms', { kind: 'status', status: 429, headers: { 'retry-after-ms': '30' } }],
    ['429 Retry-After seconds', { kind: 'status', status: 429, headers: { 'retry-after': '0' } }],
    ['429 Retry-After date', { kind: 'status', status: 429, headers: { 'retry-after': new Date(Date.now() - 1000).toUTCString() } }],
    ['429 x-ratelimit-reset-requests', { kind: 'status', status: 429, headers: { 'x-ratelimit-reset-requests': '0.03s' } }],
    ['500', { kind: 'status', status: 500 }],
    ['502 HTML page', { kind: 'status', status: 502, contentType: 'text/html', body: '<html><body>Bad gateway</body></html>' }],
    ['200 HTML page', { kind: 'status', status: 200, contentType: 'text/html', body: '<html>oops</html>' }],
    ['truncated JSON', { kind: 'truncated' }],
    ['connection reset', { kind: 'reset' }],
  ] as Array<[string, ScriptedReply]>)('recovers from %s on the second attempt', async (_name, fault) => {
    const { outcome } = await sampleAfter(fault);
    expect(outcome).toMatchObject({ status: 'ok', text: 'answer', attempts: 2 });
  });

  it('times out a stalled body and retries', async () => {
    const { outcome } = await sampleAfter({ kind: 'stall' }, { timeoutMs: 300 });
    expect(outcome).toMatchObject({ status: 'ok', text: 'answer', attempts: 2 });
  });

  it('halves concurrency on a 429', async () => {
    const { sampler } = await sampleAfter({ kind: 'status', status: 429, headers: { 'retry-after-ms': '1' } }, { concurrency: 8 });
    expect(sampler.limiter.limit).toBe(4);
  });

  it('records permanent errors after one attempt and gives up on endless 5xx', async () => {
    server = await startOpenAiServer({ respond: ({ prompt }) => ({ kind: 'status', status: prompt === 'bad' ? 400 : 503 }) });
    const sampler = createSampler({ baseURL: server.url, model: 'm', maxAttempts: 3, backoffBaseMs: 1 });
    const bad = await sampler.sample({ ...request, messages: [{ role: 'user', content: 'bad' }] });
    expect(bad).toMatchObject({ status: 'error', attempts: 1, error: { kind: 'permanent', httpStatus: 400 } });
    const flaky = await sampler.sample(request);
    expect(flaky).toMatchObject({ status: 'error', attempts: 3, error: { kind: 'transient', httpStatus: 503 } });
  });

  it('keeps a null content reply as is (reasoning models) instead of a placeholder', async () => {
    server = await startOpenAiServer({ respond: () => ({ kind: 'reply', content: null, finishReason: 'length' }) });
    const outcome = await createSampler({ baseURL: server.url, model: 'm' }).sample(request);
    expect(outcome).toMatchObject({ status: 'ok', text: '', nullContent: true, finishReason: 'length' });
  });

  it('aborts promptly on the caller signal with ABORTED', async () => {
    server = await startOpenAiServer({ respond: () => ({ kind: 'stall' }) });
    const controller = new AbortController();
    const pending = createSampler({ baseURL: server.url, model: 'm', timeoutMs: 60_000 }).sample({ ...request, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('cuts off an oversized body and records it as an API error, not an answer', async () => {
    server = await startOpenAiServer({ respond: () => ({ kind: 'reply', content: 'x'.repeat(4096) }) });
    const sampler = createSampler({ baseURL: server.url, model: 'm', maxResponseBytes: 1024, maxAttempts: 2, backoffBaseMs: 1 });
    expect(await sampler.sample(request)).toMatchObject({ status: 'error', attempts: 2, error: { kind: 'transient', message: expect.stringContaining('exceeds 1024 bytes') } });
  });

  it('renders a chat template for completion mode', async () => {
    let prompt = '';
    server = await startOpenAiServer({
      respond: (scripted) => {
        prompt = scripted.prompt;
        return { kind: 'reply', content: 'ok' };
      },
    });
    const sampler = createSampler({ baseURL: server.url, model: 'm', mode: 'completion', chatTemplate: '{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}<assistant>' });
    expect(await sampler.sample(request)).toMatchObject({ status: 'ok', text: 'ok' });
    expect(prompt).toBe('<user>q<assistant>');
  });
});
