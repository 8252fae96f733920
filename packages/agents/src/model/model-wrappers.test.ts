import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AipoError } from '@aipo/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createConcurrencyLimiter,
  createEndpointLimits,
  createJsonlTranscript,
  createOpenAIChatModel,
  createUsageMeter,
  withDiskCache,
  withTranscript,
  withUsageAccounting,
} from '../index';
import { completion, startOpenAITestServer } from '../testing/openai-test-server';

let directory: string;
let server: Awaited<ReturnType<typeof startOpenAITestServer>>;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'aipo-agents-'));
  server = await startOpenAITestServer(async (request, index) => {
    const content = (request.body.messages as Array<{ content: string }>)[0]?.content ?? '';
    if (content === 'fail') return { kind: 'json', status: 400, body: { error: { message: 'nope' } } };
    // hold 'slow' requests until two are in flight (or 2 s pass), so a working limit of 2 is always reached
    if (content === 'slow') {
      for (let waited = 0; server.inFlight < 2 && waited < 2_000; waited += 5)
        await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return { kind: 'json', body: completion(`reply ${index}`, { usage: [100, 20] }) };
  });
});
afterEach(async () => {
  await server.close();
  await rm(directory, { recursive: true, force: true });
});

const ask = (content: string) => [{ role: 'user' as const, content }];

describe('model wrappers against a real local server (scripted replies)', () => {
  it('caches temperature-0 calls on disk, never sampled ones, and survives a corrupt entry', async () => {
    const lookups: boolean[] = [];
    const model = withDiskCache(createOpenAIChatModel({ baseURL: server.baseURL, model: 'm' }), {
      directory,
      onLookup: ({ hit }) => lookups.push(hit),
    });
    const first = await model.generate(ask('q'), { temperature: 0 });
    const second = await model.generate(ask('q'), { temperature: 0 });
    expect(second).toEqual(first);
    expect(server.requests).toHaveLength(1);
    await model.generate(ask('q'), { temperature: 0.7 });
    await model.generate(ask('q'), { temperature: 0.7 });
    expect(server.requests).toHaveLength(3);
    // a different prompt is a different key
    await model.generate(ask('other'), { temperature: 0 });
    expect(server.requests).toHaveLength(4);
    expect(lookups).toEqual([false, true, false]);
    // corrupt every cache file: the next call is a miss and rewrites it
    for (const sub of await readdir(directory)) {
      for (const file of await readdir(join(directory, sub))) await writeFile(join(directory, sub, file), '{not json');
    }
    const third = await model.generate(ask('q'), { temperature: 0 });
    expect(third.text).toBe('reply 4');
    expect((await model.generate(ask('q'), { temperature: 0 })).text).toBe('reply 4');
  });

  it('does not cache errors', async () => {
    const model = withDiskCache(createOpenAIChatModel({ baseURL: server.baseURL, model: 'm', maxRetries: 0 }), {
      directory,
    });
    await expect(model.generate(ask('fail'), { temperature: 0 })).rejects.toThrow(/HTTP 400/);
    await expect(model.generate(ask('fail'), { temperature: 0 })).rejects.toThrow(/HTTP 400/);
    expect(server.requests).toHaveLength(2);
  });

  it('counts tokens and cost per model', async () => {
    const meter = createUsageMeter({ prices: { priced: { promptPerMillion: 2, completionPerMillion: 10 } } });
    const priced = withUsageAccounting(createOpenAIChatModel({ baseURL: server.baseURL, model: 'priced' }), meter);
    const free = withUsageAccounting(createOpenAIChatModel({ baseURL: server.baseURL, model: 'free' }), meter);
    await priced.generate(ask('a'));
    await priced.generate(ask('b'));
    await free.generate(ask('c'));
    expect(meter.byModel()).toEqual({
      priced: { calls: 2, promptTokens: 200, completionTokens: 40, cost: (200 * 2 + 40 * 10) / 1e6 },
      free: { calls: 1, promptTokens: 100, completionTokens: 20, cost: 0 },
    });
    expect(meter.total()).toMatchObject({ calls: 3, promptTokens: 300, completionTokens: 60 });
  });

  it('limits concurrent requests per endpoint, shared by every model on it', async () => {
    const limits = createEndpointLimits({ defaultLimit: 2 });
    const a = limits.wrap(createOpenAIChatModel({ baseURL: server.baseURL, model: 'a' }));
    const b = limits.wrap(createOpenAIChatModel({ baseURL: server.baseURL, model: 'b' }));
    await Promise.all([
      ...Array.from({ length: 4 }, () => a.generate(ask('slow'))),
      ...Array.from({ length: 4 }, () => b.generate(ask('slow'))),
    ]);
    expect(server.requests).toHaveLength(8);
    expect(server.maxInFlight).toBe(2);
  });

  it('drops a queued task whose signal aborts, and rejects a bad limit', async () => {
    expect(() => createConcurrencyLimiter(0)).toThrow(AipoError);
    const limiter = createConcurrencyLimiter(1);
    let release: () => void = () => {};
    const running = limiter.run(() => new Promise<void>((resolve) => (release = resolve)));
    const controller = new AbortController();
    const queued = limiter.run(async () => 'never', controller.signal);
    expect(limiter.pending).toBe(1);
    controller.abort();
    await expect(queued).rejects.toMatchObject({ code: 'ABORTED' });
    expect(limiter.pending).toBe(0);
    release();
    await running;
    expect(limiter.active).toBe(0);
  });

  it('writes one JSONL line per exchange, errors included', async () => {
    const path = join(directory, 'logs', 'transcript.jsonl');
    const transcript = createJsonlTranscript(path);
    const model = withTranscript(
      createOpenAIChatModel({ baseURL: server.baseURL, model: 'm', maxRetries: 0 }),
      transcript,
      { role: 'verify' },
    );
    await model.generate(ask('hello'), { temperature: 0 });
    await expect(model.generate(ask('fail'))).rejects.toThrow();
    await transcript.flush();
    const lines = (await readFile(path, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      kind: 'chat',
      role: 'verify',
      modelId: 'm',
      messages: ask('hello'),
      options: { temperature: 0 },
      result: { text: 'reply 0' },
    });
    expect(lines[1]).toMatchObject({ error: { code: 'API_ERROR' } });
    expect(typeof lines[0]?.time).toBe('string');
  });

  it('reports an unwritable transcript as IO_ERROR', async () => {
    const blocker = join(directory, 'file');
    await writeFile(blocker, 'x');
    const transcript = createJsonlTranscript(join(blocker, 'nested.jsonl'));
    await expect(transcript.write({ a: 1 })).rejects.toMatchObject({ code: 'IO_ERROR' });
  });
});
