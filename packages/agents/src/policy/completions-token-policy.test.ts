import { TokenSource } from '@aipo/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createAgentRegistry, createArithmeticVerifier, createCompletionsTokenPolicy, runAipoRollout } from '../index';
import { createByteLevelTokenizer } from '../testing/byte-level-tokenizer';
import { type ScriptedReply, startOpenAITestServer } from '../testing/openai-test-server';
import { fromHfTokenizer } from '../testing/scripted-token-policy';

const codec = fromHfTokenizer(
  createByteLevelTokenizer(
    '<query agent="verify">is 12*7 = 84?</query><result>correct</result> The answer is \\boxed{85}.',
    60,
  ),
);
const prompt = codec.encode('user: What is 12*7+1?\n\nassistant: ');
// what the served policy "samples" on each call; the first runs past its closing tag
const turns = [
  'First 12*7. <query agent="verify">is 12*7 = 84?</query> and I invent <result>yes</result>',
  ' So \\boxed{85}.',
];
const logProbOf = (index: number) => -0.01 * (index + 1);

function choice(tokenIds: number[], offset: number, finishReason: string | null) {
  return {
    index: 0,
    text: codec.decode(tokenIds),
    logprobs: {
      tokens: tokenIds.map((id) => `token_id:${id}`),
      token_logprobs: tokenIds.map((_, index) => logProbOf(offset + index)),
    },
    finish_reason: finishReason,
  };
}

/** A vLLM-like completions server: streams the scripted turn in 3-token chunks and ignores stop strings. */
function streamTurn(turn: string): ScriptedReply {
  const ids = codec.encode(turn);
  const chunks = [];
  for (let start = 0; start < ids.length; start += 3) {
    const end = Math.min(ids.length, start + 3);
    chunks.push({
      id: 'c',
      object: 'text_completion',
      created: 0,
      model: 'policy',
      choices: [choice(ids.slice(start, end), start, end === ids.length ? 'stop' : null)],
    });
  }
  return { kind: 'sse', chunks };
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('createCompletionsTokenPolicy over real HTTP (scripted vLLM-style replies)', () => {
  it('runs a whole AIPO rollout: token-id prompts, a closing tag split across SSE chunks, exact masks', async () => {
    const server = await startOpenAITestServer((_request, index) => streamTurn(turns[index] ?? ''));
    close = server.close;
    const policy = createCompletionsTokenPolicy({
      baseURL: server.baseURL,
      model: 'policy',
      tokenizer: codec,
      stream: true,
    });
    const trajectory = await runAipoRollout({
      policy,
      agents: createAgentRegistry([createArithmeticVerifier()]),
      promptTokenIds: prompt,
    });
    expect(trajectory.text).toBe(
      'First 12*7. <query agent="verify">is 12*7 = 84?</query><result>correct</result> So \\boxed{85}.',
    );
    expect(trajectory.finish).toBe('answer');
    // the closing tag really was split across chunks (3-token chunks, "</query>" is several tokens)
    const firstTurn = codec.encode(turns[0] as string);
    const cut = codec.encode('First 12*7. <query agent="verify">is 12*7 = 84?</query>').length;
    expect(cut % 3).not.toBe(0);
    expect(firstTurn.slice(0, cut)).toEqual(trajectory.tokenIds.slice(0, cut));
    // the second request continued from the prompt plus every token so far, inserted ones included
    const second = server.requests[1]?.body;
    expect(second?.prompt).toEqual([...prompt, ...trajectory.tokenIds.slice(0, trajectory.segments[2]?.start)]);
    expect(second).toMatchObject({ stop: ['</query>'], return_tokens_as_token_ids: true, logprobs: 1, stream: true });
    // policy tokens carry the server's log-probs; agent tokens are masked as agent
    expect([...trajectory.logProbs.slice(0, cut)]).toEqual(
      Array.from({ length: cut }, (_, index) => Math.fround(logProbOf(index))),
    );
    for (const segment of trajectory.segments) {
      expect(codec.decode(trajectory.tokenIds.slice(segment.start, segment.end))).toBe(segment.text);
      for (let t = segment.start; t < segment.end; t++) expect(trajectory.sourceMask[t]).toBe(segment.source);
    }
    expect(trajectory.segments.map((segment) => segment.source)).toEqual([
      TokenSource.policy,
      TokenSource.agent,
      TokenSource.policy,
    ]);
  });

  it('reads a non-streamed reply, retrying a 503 first', async () => {
    const ids = codec.encode('x <query agent="verify">is 1+1 = 2?</query>');
    const server = await startOpenAITestServer((_request, index) =>
      index === 0
        ? { kind: 'json', status: 503, body: { error: { message: 'warming up' } } }
        : {
            kind: 'json',
            body: {
              id: 'c',
              object: 'text_completion',
              created: 0,
              model: 'policy',
              choices: [choice(ids, 0, 'stop')],
            },
          },
    );
    close = server.close;
    const policy = createCompletionsTokenPolicy({
      baseURL: server.baseURL,
      model: 'policy',
      tokenizer: codec,
      baseDelayMs: 1,
    });
    const output = await policy.generate({
      context: prompt,
      maxTokens: 100,
      stop: ['</query>'],
      topK: 20,
      stopTokenIds: [0],
    });
    expect(output).toMatchObject({
      tokenIds: ids,
      text: 'x <query agent="verify">is 1+1 = 2?</query>',
      finishReason: 'stop',
      stop: '</query>',
    });
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]?.body).toMatchObject({
      prompt,
      max_tokens: 100,
      top_k: 20,
      stop_token_ids: [0],
      include_stop_str_in_output: true,
    });
  });

  it('rejects a server that cannot return token ids with API_ERROR', async () => {
    const server = await startOpenAITestServer(() => ({
      kind: 'json',
      body: {
        choices: [
          { index: 0, text: 'hi', logprobs: { tokens: ['hi'], token_logprobs: [-0.1] }, finish_reason: 'stop' },
        ],
      },
    }));
    close = server.close;
    const policy = createCompletionsTokenPolicy({ baseURL: server.baseURL, model: 'policy', tokenizer: codec });
    await expect(policy.generate({ context: prompt, maxTokens: 5 })).rejects.toMatchObject({
      code: 'API_ERROR',
      message: expect.stringContaining('return_tokens_as_token_ids'),
    });
  });

  it('reports length when the token budget ends the reply', async () => {
    const ids = codec.encode('a long answer');
    const server = await startOpenAITestServer(() => ({
      kind: 'json',
      body: { choices: [choice(ids.slice(0, 3), 0, 'length')] },
    }));
    close = server.close;
    const policy = createCompletionsTokenPolicy({ baseURL: server.baseURL, model: 'policy', tokenizer: codec });
    expect((await policy.generate({ context: prompt, maxTokens: 3 })).finishReason).toBe('length');
  });
});
