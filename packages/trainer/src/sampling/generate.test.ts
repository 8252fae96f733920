import type { TokenPolicy as AgentsTokenPolicy } from '@aipo/agents';
import { AipoError } from '@aipo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/select-backend';
import type { CausalLM } from '../model/causal-lm';
import { loadModel } from '../model/load-model';
import { computeLogits, computeLogProbs } from '../model/pack-sequences';
import { createTokenPolicy } from '../policy/token-policy';
import { createRng } from '../random/seeded-rng';
import { writeTinyModelDir } from '../testing/tiny-fixtures';
import { loadTokenizer, type TextTokenizer } from '../tokenizer/load-tokenizer';
import { createBatchScheduler } from './batch-scheduler';
import { generate } from './generate';
import { sampleToken } from './sample-token';
import { sharedDecodeState } from './shared-decode-state';

let model: CausalLM;
let tokenizer: TextTokenizer;
const decode = (ids: number[]) => tokenizer.decode(ids);

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
  const { dir } = await writeTinyModelDir({ architecture: 'qwen2', seed: 11, std: 0.4, jitter: 0.1 });
  model = await loadModel(dir);
  tokenizer = await loadTokenizer(dir);
});

async function greedyWithoutCache(context: number[], steps: number): Promise<number[]> {
  const sequence = [...context];
  const V = model.config.vocabSize;
  for (let i = 0; i < steps; i++) {
    const logits = await computeLogits(model, [sequence]);
    const last = logits.subarray((sequence.length - 1) * V, sequence.length * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (last[v]! > last[best]!) best = v;
    sequence.push(best);
  }
  return sequence.slice(context.length);
}

describe('tokenizer', () => {
  it('round-trips text through the byte-level BPE tokenizer.json and renders the chat template', () => {
    const text = 'hello world the answer = 42 ∑ émoji 🙂';
    const ids = tokenizer.encode(text);
    expect(ids.length).toBeLessThan(new TextEncoder().encode(text).length); // merges applied
    expect(tokenizer.decode(ids)).toBe(text);
    const chat = tokenizer.applyChatTemplate!([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true });
    expect(chat).toBe('<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
    const chatIds = tokenizer.encode(chat);
    expect(chatIds[0]).toBe(tokenizer.tokenToId('<|im_start|>'));
    expect(tokenizer.eosTokenIds).toEqual([tokenizer.tokenToId('<|im_end|>')]);
  });
});

describe('generate', () => {
  it('KV-cache greedy decoding equals recomputing the full sequence, in a left-padded batch', async () => {
    const contexts = [tokenizer.encode('the answer is'), tokenizer.encode('hi')];
    const results = await generate({ model, decode, requests: contexts.map((context) => ({ context, maxTokens: 8, temperature: 0 })) });
    for (const [b, context] of contexts.entries()) {
      expect(results[b]!.tokenIds).toEqual(await greedyWithoutCache(context, 8));
      expect(results[b]!.finishReason).toBe('length');
      expect(results[b]!.text).toBe(decode(results[b]!.tokenIds));
    }
  });

  it('reports the log-probs the trainer recomputes for the sampled tokens', async () => {
    const context = tokenizer.encode('sample me');
    const [result] = await generate({ model, decode, requests: [{ context, maxTokens: 12, temperature: 1, seed: 3 }] });
    const recomputed = await computeLogProbs(model, { prompts: [context], responses: [result!.tokenIds] });
    for (const [t, logProb] of result!.logProbs.entries()) expect(Math.abs(logProb - recomputed[t]!)).toBeLessThan(1e-4);
  });

  it('is deterministic per seed and independent of batch neighbours', async () => {
    const context = tokenizer.encode('seeded');
    const request = { context, maxTokens: 16, temperature: 1, seed: 42 };
    const [a] = await generate({ model, decode, requests: [request] });
    const [, b] = await generate({ model, decode, requests: [{ context: tokenizer.encode('a longer neighbour prompt'), maxTokens: 5, seed: 1 }, request] });
    const [c] = await generate({ model, decode, requests: [{ ...request, seed: 43 }] });
    expect(b!.tokenIds).toEqual(a!.tokenIds);
    expect(c!.tokenIds).not.toEqual(a!.tokenIds);
  });

  it('stops at stop strings and stop tokens, keeping the stop in the output', async () => {
    const context = tokenizer.encode('stop test');
    const [free] = await generate({ model, decode, requests: [{ context, maxTokens: 20, temperature: 0 }] });
    const stopToken = free!.tokenIds[5]!;
    const [byToken] = await generate({ model, decode, requests: [{ context, maxTokens: 20, temperature: 0, stopTokenIds: [stopToken] }] });
    const firstIndex = free!.tokenIds.indexOf(stopToken);
    expect(byToken!.tokenIds).toEqual(free!.tokenIds.slice(0, firstIndex + 1));
    expect(byToken!.finishReason).toBe('stop');
    const stopText = free!.text.slice(3, 6);
    const [byText] = await generate({ model, decode, requests: [{ context, maxTokens: 20, temperature: 0, stop: ['@@never@@', stopText] }] });
    expect(byText!.finishReason).toBe('stop');
    expect(byText!.stop).toBe(stopText);
    expect(byText!.text.endsWith(stopText) || byText!.text.includes(stopText)).toBe(true);
    expect(byText!.text.indexOf(stopText)).toBe(free!.text.indexOf(stopText));
    expect(byText!.tokenIds.length).toBeLessThan(free!.tokenIds.length);
  });

  it('rejects bad requests with typed errors', async () => {
    const bad = [
      { context: [], maxTokens: 3 },
      { context: [1, 99999], maxTokens: 3 },
      { context: [1], maxTokens: -1 },
      { context: [1], maxTokens: 3, temperature: Number.NaN },
      { context: [1], maxTokens: 3, topP: 0 },
    ];
    for (const request of bad) {
      const error = await generate({ model, decode, requests: [request] }).catch((e: unknown) => e);
      expect(AipoError.isInstance(error) && error.code).toBe('INVALID_ARGUMENT');
    }
    const controller = new AbortController();
    controller.abort();
    const aborted = await generate({ model, decode, requests: [{ context: [1], maxTokens: 3 }], signal: controller.signal }).catch((e: unknown) => e);
    expect(AipoError.isInstance(aborted) && aborted.code).toBe('ABORTED');
  });
});

describe('decode memory shared between generate calls', () => {
  it('copies the weights once per weight version and frees every sequence: the memory stays flat across calls', async () => {
    const { cache } = sharedDecodeState(model);
    const requests = [0, 1, 2].map((seed) => ({ context: tokenizer.encode(`call ${seed}`), maxTokens: 6, temperature: 1, seed }));
    const first = await generate({ model, decode, requests });
    const size = cache.arena.heap().length;
    const weights = await sharedDecodeState(model).currentWeights();
    for (let call = 0; call < 5; call++) {
      const again = await generate({ model, decode, requests });
      expect(again.map((result) => result.tokenIds)).toEqual(first.map((result) => result.tokenIds));
    }
    expect(cache.arena.heap().length).toBe(size);
    expect(await sharedDecodeState(model).currentWeights()).toBe(weights);
    // a weight update: rebuilt once, in the blocks the old copy gave back
    const norm = model.params.get('model.norm.weight')!;
    const original = norm.clone();
    norm.assign(original.mul(1.25));
    try {
      expect(weights.isCurrent()).toBe(false);
      const [a, b] = await Promise.all([sharedDecodeState(model).currentWeights(), sharedDecodeState(model).currentWeights()]);
      expect(a).toBe(b);
      expect(a).not.toBe(weights);
      await generate({ model, decode, requests });
      expect(cache.arena.heap().length).toBe(size);
    } finally {
      norm.assign(original);
      original.dispose();
    }
  });
});

describe('TokenPolicy', () => {
  it('pauses at a closing tag, takes inserted agent tokens and continues the same sequence', async () => {
    // compile-time check: the trainer's policy satisfies @aipo/agents' structural interface
    const policy: AgentsTokenPolicy = createTokenPolicy({ model, tokenizer, modelId: 'tiny' });
    const context = policy.encode(policy.applyChatTemplate!([{ role: 'user', content: 'think' }], { addGenerationPrompt: true }));
    const first = await policy.generate({ context, maxTokens: 12, temperature: 0 });
    const stop = first.text.slice(2, 4);
    const paused = await policy.generate({ context, maxTokens: 12, temperature: 0, stop: [stop] });
    expect(paused.finishReason).toBe('stop');
    expect(paused.text).toContain(stop);
    const inserted = policy.encode('<agent>ok</agent>');
    const resumedContext = [...context, ...paused.tokenIds, ...inserted];
    const resumed = await policy.generate({ context: resumedContext, maxTokens: 6, temperature: 0 });
    expect(resumed.tokenIds).toEqual(await greedyWithoutCache(resumedContext, resumed.tokenIds.length));
    // concurrent calls are batched and still give each caller its own answer
    const [x, y] = await Promise.all([policy.generate({ context, maxTokens: 12, temperature: 0 }), policy.generate({ context: resumedContext, maxTokens: 6, temperature: 0 })]);
    expect(x.tokenIds).toEqual(first.tokenIds);
    expect(y.tokenIds).toEqual(resumed.tokenIds);
  });

  it('dispose rejects later calls with ABORTED and leaves a scheduler it was given running', async () => {
    const own = createTokenPolicy({ model, tokenizer });
    const context = own.encode('hi');
    expect((await own.generate({ context, maxTokens: 2, temperature: 0 })).tokenIds).toHaveLength(2);
    own.dispose();
    await expect(own.generate({ context, maxTokens: 2, temperature: 0 })).rejects.toMatchObject({ code: 'ABORTED' });
    const scheduler = createBatchScheduler({ model, decode: (ids) => tokenizer.decode(ids) });
    try {
      const shared = createTokenPolicy({ model, tokenizer, scheduler });
      shared.dispose();
      await expect(shared.generate({ context, maxTokens: 2, temperature: 0 })).rejects.toMatchObject({ code: 'ABORTED' });
      // the owner's scheduler still serves others
      expect((await scheduler.submit({ context, maxTokens: 2, temperature: 0 })).tokenIds).toHaveLength(2);
    } finally {
      scheduler.dispose();
    }
  });
});

describe('sampleToken', () => {
  it('samples the softmax at temperature 1 and filters with top-k / top-p', () => {
    const logits = new Float32Array([Math.log(0.5), Math.log(0.3), Math.log(0.2)]);
    const rng = createRng({ seed: 9 });
    const counts = [0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[sampleToken({ logits, temperature: 1, rng }).tokenId]!++;
    expect(counts[0]! / 4000).toBeCloseTo(0.5, 1);
    expect(counts[2]! / 4000).toBeCloseTo(0.2, 1);
    const top = new Set<number>();
    for (let i = 0; i < 200; i++) top.add(sampleToken({ logits, temperature: 1, topK: 2, rng }).tokenId);
    expect([...top].sort()).toEqual([0, 1]);
    const nucleus = new Set<number>();
    for (let i = 0; i < 200; i++) nucleus.add(sampleToken({ logits, temperature: 1, topP: 0.5, rng }).tokenId);
    expect([...nucleus]).toEqual([0]);
    const sampled = sampleToken({ logits, temperature: 0, rng });
    expect(sampled.tokenId).toBe(0);
    expect(sampled.logProb).toBeCloseTo(Math.log(0.5), 5);
  });
});
