import { createRng } from '@aipo/core';
import { describe, expect, it } from 'vitest';
import { createCharGruPolicy } from './char-gru-policy';

const sequence = (policy: { encode(text: string): number[] }, prompt: string, response: string) => ({
  prompt: policy.encode(prompt),
  response: policy.encode(response),
});

describe('createCharGruPolicy', () => {
  it('sampled log-probs equal scored log-probs (the ratio of an on-policy sample is 1)', async () => {
    const policy = await createCharGruPolicy({ hiddenSize: 16, embeddingSize: 8, seed: 1 });
    const contexts = [policy.encode('1+2=?\n'), policy.encode('9-3+4=?\n')];
    const samples = await policy.sample({ contexts, maxTokens: 6, temperature: 1, rng: createRng(3) });
    const scores = await policy.score(samples.map((sample, index) => ({ prompt: contexts[index] ?? [], response: sample.tokenIds })));
    samples.forEach((sample, index) => {
      expect(sample.tokenIds.length).toBeGreaterThan(0);
      for (const [t, logProb] of sample.logProbs.entries()) expect(scores.logProbs[index]?.[t]).toBeCloseTo(logProb, 4);
    });
    policy.dispose();
  });

  it('is deterministic under a seed', async () => {
    const policy = await createCharGruPolicy({ hiddenSize: 16, embeddingSize: 8, seed: 1 });
    const request = () => ({ contexts: [policy.encode('5+5=?\n')], maxTokens: 8, temperature: 1, rng: createRng(9) });
    const first = await policy.sample(request());
    const second = await policy.sample(request());
    expect(second[0]?.tokenIds).toEqual(first[0]?.tokenIds);
    policy.dispose();
  });

  it('a positive weight on a token raises its probability, a negative one lowers it', async () => {
    for (const sign of [1, -1]) {
      const policy = await createCharGruPolicy({ hiddenSize: 16, embeddingSize: 8, seed: 2 });
      const rewarded = [sequence(policy, '3+4=?\n', '7')];
      const before = (await policy.score(rewarded)).logProbs[0]?.[0] ?? Number.NaN;
      // weights are ∂L/∂log p: minimising L = −A·log p with A = sign
      await policy.trainStep({ sequences: rewarded, weights: [new Float32Array([-sign])], learningRate: 0.01 });
      const after = (await policy.score(rewarded)).logProbs[0]?.[0] ?? Number.NaN;
      expect(Math.sign(after - before)).toBe(sign);
      policy.dispose();
    }
  });

  it('restores weights and optimizer state exactly', async () => {
    const policy = await createCharGruPolicy({ hiddenSize: 16, embeddingSize: 8, seed: 4 });
    const data = [sequence(policy, '1+1=?\n', '1+1=2\n\\boxed{2}')];
    const weights = [new Float32Array(data[0]?.response.length ?? 0).fill(-0.1)];
    await policy.trainStep({ sequences: data, weights, learningRate: 0.01 });
    const saved = await policy.saveState();
    const copy = await createCharGruPolicy({ hiddenSize: 16, embeddingSize: 8, seed: 99 });
    await copy.loadState(JSON.parse(JSON.stringify(saved)));
    await policy.trainStep({ sequences: data, weights, learningRate: 0.01 });
    await copy.trainStep({ sequences: data, weights, learningRate: 0.01 });
    expect((await copy.saveState()).weights).toEqual((await policy.saveState()).weights);
    policy.dispose();
    copy.dispose();
  });

  it('rejects bad input with typed errors', async () => {
    const policy = await createCharGruPolicy({ hiddenSize: 8, embeddingSize: 4 });
    expect(() => policy.encode('é')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await expect(policy.sample({ contexts: [[]], maxTokens: 1, temperature: 1, rng: createRng(0) })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const data = [sequence(policy, 'a', 'b')];
    await expect(policy.trainStep({ sequences: data, weights: [new Float32Array([Number.NaN])], learningRate: 0.1 })).rejects.toMatchObject({
      code: 'NON_FINITE_INPUT',
    });
    await expect(createCharGruPolicy({ hiddenSize: 0 })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    policy.dispose();
  });
});
