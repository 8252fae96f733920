import * as tf from '@tensorflow/tfjs';
import { AipoError } from '@aipo/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/select-backend';
import type { CausalLM } from '../model/causal-lm';
import { loadModel } from '../model/load-model';
import { computeLogits, computeLogProbs } from '../model/pack-sequences';
import { writeTinyModelDir } from '../testing/tiny-fixtures';
import { loadTokenizer, type TextTokenizer } from '../tokenizer/load-tokenizer';
import { createBatchScheduler, type BatchScheduler } from './batch-scheduler';
import { generate, type GenerationRequest, type GenerationResult } from './generate';

let model: CausalLM;
let tokenizer: TextTokenizer;
const decode = (ids: number[]) => tokenizer.decode(ids);
const schedulers: BatchScheduler[] = [];
const scheduler = (options: { keptSequences?: number } = {}) => {
  const created = createBatchScheduler({ model, decode, ...options });
  schedulers.push(created);
  return created;
};

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
  const { dir } = await writeTinyModelDir({ architecture: 'qwen2', seed: 13, std: 0.4, jitter: 0.1 });
  model = await loadModel(dir);
  tokenizer = await loadTokenizer(dir);
});

afterAll(() => {
  for (const created of schedulers) created.dispose();
  model.dispose();
});

/** The same request on a fresh scheduler with no kept caches and no neighbours. */
async function alone(request: GenerationRequest): Promise<GenerationResult> {
  const solo = createBatchScheduler({ model, decode, keptSequences: 0 });
  try {
    return await solo.submit(request);
  } finally {
    solo.dispose();
  }
}

async function expectLogProbsOfFullContext(context: number[], result: GenerationResult): Promise<void> {
  const recomputed = await computeLogProbs(model, { prompts: [context], responses: [result.tokenIds] });
  expect(result.logProbs).toHaveLength(result.tokenIds.length);
  for (const [t, logProb] of result.logProbs.entries()) expect(Math.abs(logProb - recomputed[t]!)).toBeLessThan(1e-4);
}

describe('pause / resume keeps the KV cache', () => {
  it('runs only the inserted tokens on resume, with the log-probs of a from-scratch pass, and a flat tensor count', async () => {
    const policy = scheduler();
    const context = tokenizer.encode(tokenizer.applyChatTemplate!([{ role: 'user', content: 'think, then ask' }], { addGenerationPrompt: true }));
    const free = await policy.submit({ context, maxTokens: 12, temperature: 1, seed: 3 });
    const closing = free.tokenIds[5]!;
    const counts: number[] = [];
    for (let round = 0; round < 3; round++) {
      // the agent stops at a "closing tag" token, inserts its own tokens and continues the same sequence
      const paused = await policy.submit({ context, maxTokens: 12, temperature: 1, seed: 3, stopTokenIds: [closing] });
      expect(paused.finishReason).toBe('stop');
      expect(paused.tokenIds).toEqual(free.tokenIds.slice(0, free.tokenIds.indexOf(closing) + 1));
      const inserted = tokenizer.encode(`<agent>ok ${round}</agent>`);
      const resumedContext = [...context, ...paused.tokenIds, ...inserted];
      const before = policy.stats().cachedTokens;
      const resumed = await policy.submit({ context: resumedContext, maxTokens: 8, temperature: 1, seed: 4 + round });
      // everything but the last sampled token (never run through the model) came from the cache
      expect(resumed.cachedTokens).toBe(context.length + paused.tokenIds.length - 1);
      expect(policy.stats().cachedTokens - before).toBe(resumed.cachedTokens);
      await expectLogProbsOfFullContext(resumedContext, resumed);
      const fresh = await alone({ context: resumedContext, maxTokens: 8, temperature: 1, seed: 4 + round });
      expect(fresh.cachedTokens).toBe(0);
      expect(resumed.tokenIds).toEqual(fresh.tokenIds);
      counts.push(tf.memory().numTensors);
    }
    expect(counts).toEqual(counts.map(() => counts[0]));
  });

  it('reuses the longest shared prefix, and never reuses a cache across a weight update', async () => {
    const policy = scheduler();
    const a = tokenizer.encode('the answer is forty two');
    await policy.submit({ context: a, maxTokens: 4, temperature: 0 });
    const branch = [...a.slice(0, 3), ...tokenizer.encode(' something else')];
    const partial = await policy.submit({ context: branch, maxTokens: 4, temperature: 0 });
    expect(partial.cachedTokens).toBe(3);
    await expectLogProbsOfFullContext(branch, partial);
    // a training step replaces the variables: kept caches belong to the old weights
    const norm = model.params.get('model.norm.weight')!;
    const original = norm.clone();
    norm.assign(tf.mul(original, 1.5));
    try {
      const after = await policy.submit({ context: branch, maxTokens: 4, temperature: 0 });
      expect(after.cachedTokens).toBe(0);
      await expectLogProbsOfFullContext(branch, after);
    } finally {
      norm.assign(original);
      original.dispose();
    }
  });

  it('keeps at most keptSequences sequences and keptBytes of cache', async () => {
    const bySize = createBatchScheduler({ model, decode, keptBytes: 1 });
    const byCount = createBatchScheduler({ model, decode, keptSequences: 1 });
    schedulers.push(bySize, byCount);
    const a = tokenizer.encode('first sequence');
    const b = tokenizer.encode('second one');
    for (const policy of [bySize, byCount]) {
      await policy.submit({ context: a, maxTokens: 2, temperature: 0 });
      await policy.submit({ context: b, maxTokens: 2, temperature: 0 });
    }
    expect((await bySize.submit({ context: b, maxTokens: 1, temperature: 0 })).cachedTokens).toBe(0);
    expect((await byCount.submit({ context: b, maxTokens: 1, temperature: 0 })).cachedTokens).toBe(b.length - 1);
    expect((await byCount.submit({ context: a, maxTokens: 1, temperature: 0 })).cachedTokens).toBe(0);
  });
});

describe('continuous batching', () => {
  it('lets a short request join a running long one, finish first, and match its solo result', async () => {
    const policy = scheduler();
    const longRequest: GenerationRequest = { context: tokenizer.encode('a long story begins'), maxTokens: 36, temperature: 1, seed: 1 };
    const shortRequest: GenerationRequest = { context: tokenizer.encode('hi'), maxTokens: 3, temperature: 1, seed: 2 };
    const order: string[] = [];
    let shortResult: Promise<GenerationResult> | undefined;
    let seen = 0;
    const longResult = policy
      .submit({
        ...longRequest,
        onToken: () => {
          // arrives mid-generation: after the long request's third token
          if (++seen === 3) {
            shortResult = policy.submit(shortRequest).then((result) => {
              order.push('short');
              return result;
            });
          }
        },
      })
      .then((result) => {
        order.push('long');
        return result;
      });
    const long = await longResult;
    const short = await shortResult!;
    expect(order).toEqual(['short', 'long']);
    expect(long.tokenIds).toHaveLength(36);
    expect(policy.stats().joinedRunning).toBeGreaterThanOrEqual(1);
    expect(policy.stats().maxConcurrent).toBe(2);
    for (const [request, result] of [
      [longRequest, long],
      [shortRequest, short],
    ] as const) {
      const solo = await alone(request);
      expect(result.tokenIds).toEqual(solo.tokenIds);
      for (const [t, logProb] of result.logProbs.entries()) expect(Math.abs(logProb - solo.logProbs[t]!)).toBeLessThan(1e-5);
    }
  });

  it('fails only the request that is invalid, aborted or whose token callback throws', async () => {
    const policy = scheduler();
    const controller = new AbortController();
    let tokens = 0;
    const doomed = policy.submit({ context: [5, 6], maxTokens: 30, temperature: 1, seed: 1, onToken: () => ++tokens === 2 && controller.abort() }, controller.signal);
    const invalid = policy.submit({ context: [5, 999_999], maxTokens: 3 });
    const throwing = policy.submit({
      context: [9, 10],
      maxTokens: 5,
      onToken: () => {
        throw new Error('stream closed');
      },
    });
    const fine = policy.submit({ context: [7, 8], maxTokens: 10, temperature: 1, seed: 9 });
    const [abortError, invalidError, callbackError] = await Promise.all([doomed.catch((e: unknown) => e), invalid.catch((e: unknown) => e), throwing.catch((e: unknown) => e)]);
    expect((callbackError as Error).message).toBe('stream closed');
    expect(AipoError.isInstance(abortError) && abortError.code).toBe('ABORTED');
    expect(AipoError.isInstance(invalidError) && invalidError.code).toBe('INVALID_ARGUMENT');
    expect(() => createBatchScheduler({ model, decode, maxBatchSize: 0 })).toThrow(/maxBatchSize/);
    expect((await fine).tokenIds).toEqual((await alone({ context: [7, 8], maxTokens: 10, temperature: 1, seed: 9 })).tokenIds);
  });
});

describe('prefix sharing', () => {
  it('runs one prompt once for its n samples, and each continuation equals a separate run', async () => {
    const policy = scheduler({ keptSequences: 0 });
    const context = tokenizer.encode('one prompt, four samples');
    const other = tokenizer.encode('another prompt');
    const requests: GenerationRequest[] = [0, 1, 2, 3].map((i) => ({ context, maxTokens: 10, temperature: 1, seed: 40 + i, topLogProbs: 2 }));
    const before = policy.stats();
    const [together, unrelated] = await Promise.all([Promise.all(requests.map((request) => policy.submit(request))), policy.submit({ context: other, maxTokens: 10, temperature: 1, seed: 9 })]);
    const stats = policy.stats();
    // three followers copied the prompt; the unrelated prompt ran its own
    expect(stats.sharedTokens - before.sharedTokens).toBe(3 * context.length);
    expect(stats.steps - before.steps).toBe(10);
    // different seeds: the samples differ, so equal results below are not one result copied
    expect(new Set(together.map((result) => result.tokenIds.join())).size).toBeGreaterThan(1);
    for (const [i, request] of requests.entries()) {
      const solo = await alone(request);
      expect(together[i]!.tokenIds).toEqual(solo.tokenIds);
      expect(together[i]!.logProbs).toEqual(solo.logProbs);
      expect(together[i]!.topLogProbs).toEqual(solo.topLogProbs);
      await expectLogProbsOfFullContext(context, together[i]!);
    }
    expect(unrelated.tokenIds).toEqual((await alone({ context: other, maxTokens: 10, temperature: 1, seed: 9 })).tokenIds);
  });
});

describe('topLogProbs', () => {
  it('returns the k most likely tokens of the model distribution at each sampled position', async () => {
    const context = tokenizer.encode('alternatives');
    const k = 5;
    const [result] = await generate({ model, decode, requests: [{ context, maxTokens: 6, temperature: 1, seed: 8, topLogProbs: k }] });
    const sequence = [...context, ...result!.tokenIds];
    const logits = await computeLogits(model, [sequence]);
    const V = model.config.vocabSize;
    expect(result!.topLogProbs).toHaveLength(result!.tokenIds.length);
    for (const [t, alternatives] of result!.topLogProbs!.entries()) {
      const row = logits.subarray((context.length - 1 + t) * V, (context.length + t) * V);
      const max = Math.max(...row);
      const logZ = max + Math.log(row.reduce((sum, value) => sum + Math.exp(value - max), 0));
      const ranked = Array.from(row, (value, id) => ({ id, logProb: value - logZ })).sort((x, y) => y.logProb - x.logProb);
      expect(alternatives.map((a) => a.tokenId)).toEqual(ranked.slice(0, k).map((r) => r.id));
      for (const [i, alternative] of alternatives.entries()) expect(Math.abs(alternative.logProb - ranked[i]!.logProb)).toBeLessThan(1e-4);
      expect(Math.abs(result!.logProbs[t]! - ranked.find((r) => r.id === result!.tokenIds[t])!.logProb)).toBeLessThan(1e-4);
    }
    // k beyond the vocabulary: the whole distribution, ranked, summing to 1
    const [all] = await generate({ model, decode, requests: [{ context, maxTokens: 1, seed: 8, topLogProbs: 10 * V }] });
    const ranked = all!.topLogProbs![0]!;
    expect(ranked).toHaveLength(V);
    expect(ranked.map((r) => r.logProb)).toEqual([...ranked.map((r) => r.logProb)].sort((x, y) => y - x));
    expect(Math.abs(ranked.reduce((sum, r) => sum + Math.exp(r.logProb), 0) - 1)).toBeLessThan(1e-4);
    const [none] = await generate({ model, decode, requests: [{ context, maxTokens: 2, seed: 8 }] });
    expect(none!.topLogProbs).toBeUndefined();
  });
});
