import { describe, expect, it } from 'vitest';
import { createLocalChatModel, plainChatTemplate } from '../index';
import { createByteLevelTokenizer } from '../testing/byte-level-tokenizer';
import { createScriptedTokenPolicy, fromHfTokenizer } from '../testing/scripted-token-policy';

const codec = fromHfTokenizer(createByteLevelTokenizer('user: assistant: hello there </query>', 20));

describe('createLocalChatModel over an in-process TokenPolicy', () => {
  it('renders the prompt, forwards sampling, stops at a stop string and reports exact token counts', async () => {
    const policy = createScriptedTokenPolicy({ codec, turns: ['hello <query>x</query> tail'] });
    const model = createLocalChatModel({ policy });
    const messages = [{ role: 'user' as const, content: 'hi' }];
    const result = await model.generate(messages, {
      maxTokens: 50,
      temperature: 0.5,
      topK: 3,
      stop: ['</query>'],
      logProbs: true,
      seed: 1,
    });
    expect(result.text).toBe('hello <query>x</query>');
    expect(result.finishReason).toBe('stop');
    expect(policy.contexts[0]).toEqual(codec.encode(plainChatTemplate(messages)));
    expect(result.usage).toEqual({
      promptTokens: codec.encode(plainChatTemplate(messages)).length,
      completionTokens: codec.encode('hello <query>x</query>').length,
    });
    expect(result.logProbs?.map((entry) => entry.token).join('')).toBe('hello <query>x</query>');
    expect(policy.requests[0]).toMatchObject({ maxTokens: 50, temperature: 0.5, topK: 3, seed: 1 });
  });

  it("prefers the policy's own chat template", async () => {
    const policy = {
      ...createScriptedTokenPolicy({ codec, turns: ['ok'] }),
      applyChatTemplate: () => '<|user|>hi<|assistant|>',
    };
    const model = createLocalChatModel({ policy, defaultMaxTokens: 8 });
    const result = await model.generate([{ role: 'user', content: 'hi' }]);
    expect(result.text).toBe('ok');
    expect(result.usage.promptTokens).toBe(codec.encode('<|user|>hi<|assistant|>').length);
    expect(result.logProbs).toBeUndefined();
  });
});
