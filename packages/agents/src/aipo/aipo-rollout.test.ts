import { AipoError, TokenSource, assertBatchShape } from '@aipo/core';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Agent,
  type AipoTrajectory,
  consultAtStartTrigger,
  createAgentRegistry,
  createArithmeticVerifier,
  createChatAgent,
  createJsonlTranscript,
  createKnowledgeTable,
  createLocalChatModel,
  createOpenAIChatModel,
  createStepOracle,
  createTagSyntax,
  knowledgeRole,
  lowProbabilityTrigger,
  packTrajectories,
  runAipoRollout,
  AipoRollout,
  type TokenPolicy,
} from '../index';
import { createByteLevelTokenizer } from '../testing/byte-level-tokenizer';
import { startOpenAITestServer, streamChunks } from '../testing/openai-test-server';
import { createScriptedTokenPolicy, fromHfTokenizer } from '../testing/scripted-token-policy';

// A real byte-level BPE tokenizer: tags split over several tokens (`</`, `query`, `>`), as with real models.
const codec = fromHfTokenizer(
  createByteLevelTokenizer(
    '<query agent="verify">is 12*7 = 84?</query><result>correct</result><query agent="knowledge">area of a circle</query> The answer is \\boxed{84}. résumé',
    80,
  ),
);
const prompt = codec.encode('user: What is 12*7+1?\n\nassistant: ');

function agents(extra: Agent[] = []) {
  return createAgentRegistry([
    createArithmeticVerifier(),
    createKnowledgeTable({ entries: { 'area of a circle': 'A = \\pi r^2' } }),
    createStepOracle({ nextStep: ({ query }) => `next: add 1 to ${query.length > 3 ? 'the product' : query}` }),
    ...extra,
  ]);
}

function policy(
  turns: string[],
  options: { ignoreStops?: boolean; logProbOf?: (turn: number, index: number) => number } = {},
) {
  return createScriptedTokenPolicy({ codec, turns, ...options });
}

/** Every segment decodes to its text, carries one source, and the masks agree with it token by token. */
function expectAligned(trajectory: AipoTrajectory, trainOnAgentTokens = false) {
  let covered = 0;
  for (const segment of trajectory.segments) {
    expect(segment.start).toBe(covered);
    expect(codec.decode(trajectory.tokenIds.slice(segment.start, segment.end))).toBe(segment.text);
    for (let t = segment.start; t < segment.end; t++) {
      expect(trajectory.sourceMask[t]).toBe(segment.source);
      if (segment.source === TokenSource.policy) expect(Number.isFinite(trajectory.logProbs[t])).toBe(true);
      if (!['length', 'max-steps'].includes(trajectory.finish)) {
        expect(trajectory.lossMask[t]).toBe(segment.source === TokenSource.policy || trainOnAgentTokens ? 1 : 0);
      }
    }
    covered = segment.end;
  }
  expect(covered).toBe(trajectory.tokenIds.length);
  expect(codec.decode(trajectory.tokenIds)).toBe(trajectory.text);
  const agentTokens = trajectory.sourceMask.filter((source) => source === TokenSource.agent).length;
  expect(trajectory.tokensBySource).toEqual({ policy: trajectory.tokenIds.length - agentTokens, agent: agentTokens });
}

describe('AIPO rollout over a TokenPolicy with a real BPE tokenizer and programmatic agents', () => {
  it('stops at each closing tag, inserts replies in result tags, resumes, and lines masks up token by token', async () => {
    const scripted = policy([
      'First 12*7. <query agent="verify">is 12*7 = 84?</query>',
      ' Good. <query agent="knowledge">area of a circle</query>',
      ' So the answer is \\boxed{85}.',
    ]);
    const trajectory = await runAipoRollout({
      policy: scripted,
      agents: agents(),
      promptTokenIds: prompt,
      question: 'What is 12*7+1?',
    });
    expect(trajectory.text).toBe(
      'First 12*7. <query agent="verify">is 12*7 = 84?</query><result>correct</result> Good. <query agent="knowledge">area of a circle</query><result>A = \\pi r^2</result> So the answer is \\boxed{85}.',
    );
    expect(trajectory.finish).toBe('answer');
    expect(trajectory.steps).toBe(3);
    expect(
      trajectory.consultations.map(({ agent, status, inserted, initiator }) => ({
        agent,
        status,
        inserted,
        initiator,
      })),
    ).toEqual([
      { agent: 'verify', status: 'ok', inserted: 'correct', initiator: 'policy' },
      { agent: 'knowledge', status: 'ok', inserted: 'A = \\pi r^2', initiator: 'policy' },
    ]);
    expect(trajectory.segments.map((segment) => [segment.kind, segment.source])).toEqual([
      ['policy', 0],
      ['result', 2],
      ['policy', 0],
      ['result', 2],
      ['policy', 0],
    ]);
    expectAligned(trajectory);
    // agent tokens carry NaN log-probs (programmatic agents have none) and no agent-log-prob flag
    for (let t = 0; t < trajectory.tokenIds.length; t++) {
      if (trajectory.sourceMask[t] === TokenSource.agent) {
        expect(Number.isNaN(trajectory.logProbs[t])).toBe(true);
        expect(trajectory.agentLogProbMask[t]).toBe(0);
      }
    }
    // each generate call continued from the prompt plus everything so far, inserted tokens included
    expect(scripted.contexts).toHaveLength(3);
    expect(scripted.contexts[1]).toEqual([...prompt, ...trajectory.tokenIds.slice(0, trajectory.segments[2]?.start)]);
    expect(scripted.requests[0]?.stop).toEqual(['</query>']);
  });

  it('refuses consultations beyond the budget with an error result and goes on', async () => {
    const trajectory = await runAipoRollout({
      policy: policy([
        '<query agent="verify">is 2+2 = 4?</query>',
        ' <query agent="verify">is 2+3 = 6?</query>',
        ' Done \\boxed{4}',
      ]),
      agents: agents(),
      promptTokenIds: prompt,
      config: { maxConsultations: 1 },
    });
    expect(trajectory.consultations.map((record) => record.status)).toEqual(['ok', 'budget-exceeded']);
    expect(trajectory.text).toContain(
      '<result>Error: you have reached the maximum number of questions (1). Continue without asking.</result> Done',
    );
    expect(trajectory.finish).toBe('answer');
    expectAligned(trajectory);
  });

  it('records an unclosed request when the policy ends without the closing tag', async () => {
    const trajectory = await runAipoRollout({
      policy: policy(['Let me ask <query agent="verify">is 1+1 = 2?']),
      agents: agents(),
      promptTokenIds: prompt,
    });
    expect(trajectory.finish).toBe('unclosed-request');
    expect(trajectory.unclosedRequest).toBe(true);
    expect(trajectory.consultations).toEqual([]);
    expectAligned(trajectory);
  });

  it('answers a nested request with an error result and continues', async () => {
    const trajectory = await runAipoRollout({
      policy: policy(['<query agent="verify">is <query agent="knowledge">pi</query>', ' ok \\boxed{1}']),
      agents: agents(),
      promptTokenIds: prompt,
    });
    expect(trajectory.consultations[0]).toMatchObject({ status: 'malformed', problem: 'nested' });
    expect(trajectory.text).toContain('<result>Error: a <query> was opened inside another request.</result> ok');
    expect(trajectory.finish).toBe('answer');
    expectAligned(trajectory);
  });

  it('answers an unknown agent and an empty request with error results, without using the budget', async () => {
    const trajectory = await runAipoRollout({
      policy: policy([
        '<query agent="oracle">help</query>',
        ' <query agent="verify">  </query>',
        ' <query agent="verify">is 3*3 = 9?</query>',
        ' \\boxed{9}',
      ]),
      agents: agents(),
      promptTokenIds: prompt,
      config: { maxConsultations: 1 },
    });
    expect(trajectory.consultations.map(({ status, problem }) => [status, problem])).toEqual([
      ['malformed', 'unknown-agent'],
      ['malformed', 'empty'],
      ['ok', undefined],
    ]);
    expect(trajectory.text).toContain('unknown agent "oracle" (available: verify, knowledge, reasoning)');
    expect(trajectory.text).toContain('<result>correct</result>');
    expectAligned(trajectory);
  });

  it('uses the default agent for a request without an agent field', async () => {
    const trajectory = await runAipoRollout({
      policy: policy(['<query>12*7</query>', ' \\boxed{85}']),
      agents: agents(),
      promptTokenIds: prompt,
    });
    expect(trajectory.consultations[0]).toMatchObject({
      agent: 'reasoning',
      status: 'ok',
      inserted: 'next: add 1 to the product',
    });
  });

  it('supports one tag pair per agent and flags a mismatched pair', async () => {
    const syntax = createTagSyntax({ kind: 'per-agent' });
    const scripted = policy(['<verify>is 5*5 = 24?</verify>', ' <knowledge>area of a circle</verify>', ' \\boxed{25}']);
    const trajectory = await runAipoRollout({
      policy: scripted,
      agents: agents(),
      promptTokenIds: prompt,
      config: { syntax },
    });
    expect(scripted.requests[0]?.stop).toEqual(['</verify>', '</knowledge>', '</reasoning>']);
    expect(trajectory.consultations.map(({ status, inserted, problem }) => [status, inserted, problem])).toEqual([
      ['ok', 'incorrect: 5*5 = 25', undefined],
      ['malformed', 'Error: <knowledge> was closed by </verify>.', 'mismatched'],
    ]);
    expectAligned(trajectory);
  });

  it('cuts a policy that samples past the closing tag at the tag (token granularity)', async () => {
    const trajectory = await runAipoRollout({
      policy: policy(
        ['<query agent="verify">is 2*2 = 4?</query> hallucinated <result>wrong</result>', ' fine \\boxed{4}'],
        { ignoreStops: true },
      ),
      agents: agents(),
      promptTokenIds: prompt,
    });
    expect(trajectory.text).toBe('<query agent="verify">is 2*2 = 4?</query><result>correct</result> fine \\boxed{4}');
    expectAligned(trajectory);
  });

  it('records an agent that times out and continues', async () => {
    const stuck: Agent = { name: 'verify', description: 'never answers', consult: () => new Promise(() => {}) };
    const trajectory = await runAipoRollout({
      policy: policy(['<query agent="verify">is 1+2 = 3?</query>', ' \\boxed{3}']),
      agents: createAgentRegistry([stuck]),
      promptTokenIds: prompt,
      config: { agentTimeoutMs: 50 },
    });
    expect(trajectory.consultations[0]).toMatchObject({ status: 'agent-error', error: { code: 'TIMEOUT' } });
    expect(trajectory.text).toContain(
      '<result>Error: the verify agent could not answer (TIMEOUT). Continue without it.</result> \\boxed{3}',
    );
    expect(trajectory.finish).toBe('answer');
    expectAligned(trajectory);
  });

  it('ends by length, truncating an insertion to the token budget and zeroing the loss mask', async () => {
    const trajectory = await runAipoRollout({
      policy: policy(['<query agent="knowledge">area of a circle</query>', ' long answer here']),
      agents: agents(),
      promptTokenIds: prompt,
      config: { maxResponseTokens: 20 },
    });
    expect(trajectory.tokenIds).toHaveLength(20);
    expect(trajectory.finish).toBe('length');
    expect([...trajectory.lossMask].every((value) => value === 0)).toBe(true);
    expectAligned(trajectory);
  });

  it('ends at max steps', async () => {
    const turns = Array.from({ length: 5 }, () => ' <query agent="verify">is 1+1 = 2?</query>');
    const trajectory = await runAipoRollout({
      policy: policy(turns),
      agents: agents(),
      promptTokenIds: prompt,
      config: { maxSteps: 2, maskTruncated: false },
    });
    expect(trajectory.finish).toBe('max-steps');
    expect(trajectory.steps).toBe(2);
    expect(trajectory.lossMask.some((value) => value === 1)).toBe(true);
  });

  it('puts agent tokens into the loss mask with trainOnAgentTokens', async () => {
    const trajectory = await runAipoRollout({
      policy: policy(['<query agent="verify">is 2+2 = 4?</query>', ' \\boxed{4}']),
      agents: agents(),
      promptTokenIds: prompt,
      config: { trainOnAgentTokens: true },
    });
    expect([...trajectory.lossMask].every((value) => value === 1)).toBe(true);
    expectAligned(trajectory, true);
  });

  it('starts a consultation from a low-probability trigger and marks request and reply as agent tokens', async () => {
    // token 6 of the first turn is "unlikely" (p = e^-5)
    const scripted = policy(['I think the product is about eighty and then we add', ' one. \\boxed{85}'], {
      logProbOf: (turn, index) => (turn === 0 && index === 6 ? -5 : -0.1),
    });
    const trajectory = await runAipoRollout({
      policy: scripted,
      agents: agents(),
      promptTokenIds: prompt,
      config: {
        triggers: [lowProbabilityTrigger({ minProbability: 0.05, agent: 'reasoning', query: () => '12*7' })],
        triggerWindowTokens: 4,
      },
    });
    expect(trajectory.consultations).toHaveLength(1);
    expect(trajectory.consultations[0]).toMatchObject({
      initiator: 'low-probability',
      agent: 'reasoning',
      status: 'ok',
    });
    expect(trajectory.segments.map((segment) => segment.kind)).toEqual(['policy', 'request', 'result', 'policy']);
    expect(trajectory.text).toContain(
      '<query agent="reasoning">12*7</query><result>next: add 1 to the product</result>',
    );
    // the trigger fired after the 4-token window holding the unlikely token (tokens 4..7)
    expect(trajectory.segments[0]?.end).toBe(8);
    expectAligned(trajectory);
  });

  it('consults before the policy writes when a start trigger is set (re-rolling a failed group)', async () => {
    const trajectory = await runAipoRollout({
      policy: policy([' \\boxed{85}']),
      agents: agents(),
      promptTokenIds: prompt,
      question: 'What is 12*7+1?',
      config: { triggers: [consultAtStartTrigger({ agent: 'verify', query: () => 'is 12*7 = 84?' })] },
    });
    expect(trajectory.text).toBe('<query agent="verify">is 12*7 = 84?</query><result>correct</result> \\boxed{85}');
    expect(trajectory.sourceMask[0]).toBe(TokenSource.agent);
    expectAligned(trajectory);
  });

  it('keeps an agent log-prob per inserted token when the agent shares the tokenizer (local chat model)', async () => {
    const helperPolicy = policy(['A = \\pi r^2']);
    const helper = createChatAgent({
      role: { ...knowledgeRole, extraction: 'full' },
      model: createLocalChatModel({ policy: helperPolicy }),
      decoding: { logProbs: true },
    });
    const trajectory = await runAipoRollout({
      policy: policy(['<query agent="knowledge">area of a circle</query>', ' ok']),
      agents: createAgentRegistry([helper]),
      promptTokenIds: prompt,
    });
    const result = trajectory.segments.find((segment) => segment.kind === 'result');
    expect(result?.text).toBe('<result>A = \\pi r^2</result>');
    const flagged = trajectory.tokenIds.filter((_, t) => trajectory.agentLogProbMask[t] === 1);
    // exactly the reply's tokens carry the helper's log-probs; the wrapper tags do not
    expect(codec.decode(flagged)).toBe('A = \\pi r^2');
    expect(flagged).toEqual(codec.encode('A = \\pi r^2'));
    trajectory.agentLogProbMask.forEach((flag, t) => {
      if (flag === 1) expect(Number.isFinite(trajectory.logProbs[t])).toBe(true);
    });
    expectAligned(trajectory);
  });

  it('writes every consultation and a rollout summary to a JSONL transcript', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'aipo-rollout-'));
    try {
      const transcript = createJsonlTranscript(join(directory, 'rollouts.jsonl'));
      const trajectory = await runAipoRollout({
        policy: policy(['<query agent="verify">is 2+2 = 5?</query>', ' \\boxed{4}']),
        agents: agents(),
        promptTokenIds: prompt,
        question: '2+2?',
        transcript,
        transcriptLabels: { sample: 3 },
      });
      expect(Object.keys(trajectory.consultations[0] ?? {})).not.toContain('reply');
      const lines = (await readFile(join(directory, 'rollouts.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines).toEqual([
        expect.objectContaining({
          kind: 'aipo-consultation',
          sample: 3,
          policy: 'scripted-policy',
          agent: 'verify',
          status: 'ok',
          inserted: 'incorrect: 2+2 = 4',
        }),
        expect.objectContaining({
          kind: 'aipo-rollout',
          sample: 3,
          question: '2+2?',
          finish: 'answer',
          steps: 2,
          consultations: 1,
          tokensBySource: trajectory.tokensBySource,
        }),
      ]);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('throws ABORTED when the caller aborts', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await runAipoRollout({
      policy: policy(['x']),
      agents: agents(),
      promptTokenIds: prompt,
      signal: controller.signal,
    }).catch((failure: unknown) => failure);
    expect(AipoError.isInstance(error) && error.code).toBe('ABORTED');
  });

  it('rejects a policy whose tokens and log-probs disagree, and a malformed prompt', async () => {
    const broken: TokenPolicy = {
      ...policy(['x']),
      generate: async () => ({ tokenIds: [1, 2], logProbs: [-1], text: 'ab', finishReason: 'stop' }),
    };
    await expect(runAipoRollout({ policy: broken, agents: agents(), promptTokenIds: prompt })).rejects.toMatchObject({
      code: 'SHAPE_MISMATCH',
    });
    const failing: TokenPolicy = { ...policy(['x']), generate: async () => Promise.reject(new Error('device lost')) };
    await expect(runAipoRollout({ policy: failing, agents: agents(), promptTokenIds: prompt })).rejects.toMatchObject({
      code: 'INTERNAL',
      message: 'device lost',
    });
    expect(() => new AipoRollout({}, { policy: policy([]), agents: agents(), promptTokenIds: [1.5] })).toThrow(
      /integer token ids/,
    );
  });

  it('throws ABORTED (not an agent error) when the caller aborts during a consultation', async () => {
    const controller = new AbortController();
    const seen: AbortSignal[] = [];
    const slow: Agent = {
      name: 'verify',
      description: 'aborts the caller while answering',
      consult: (_request, signal) => {
        if (signal) seen.push(signal);
        controller.abort();
        return new Promise(() => {});
      },
    };
    const error = await runAipoRollout({
      policy: policy(['<query agent="verify">is 1+1 = 2?</query>', ' done']),
      agents: createAgentRegistry([slow]),
      promptTokenIds: prompt,
      signal: controller.signal,
    }).catch((failure: unknown) => failure);
    expect(AipoError.isInstance(error) && error.code).toBe('ABORTED');
    expect(seen[0]?.aborted).toBe(true);
  });

  it('keeps a policy that ignores maxTokens within the response budget', async () => {
    const scripted = policy(['a very long answer that runs on and on']);
    const greedy: TokenPolicy = {
      ...scripted,
      generate: (request, signal) => scripted.generate({ ...request, maxTokens: 1_000 }, signal),
    };
    const trajectory = await runAipoRollout({
      policy: greedy,
      agents: agents(),
      promptTokenIds: prompt,
      config: { maxResponseTokens: 5 },
    });
    expect(trajectory.tokenIds).toHaveLength(5);
    expect(trajectory.finish).toBe('length');
    expectAligned(trajectory);
  });

  it('rejects a bad budget with INVALID_CONFIG and can be stepped state by state', async () => {
    expect(
      () => new AipoRollout({ maxConsultations: -1 }, { policy: policy([]), agents: agents(), promptTokenIds: prompt }),
    ).toThrow(/maxConsultations/);
    expect(
      () =>
        new AipoRollout({ triggerWindowTokens: 0 }, { policy: policy([]), agents: agents(), promptTokenIds: prompt }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(
      () =>
        new AipoRollout(
          { agentTimeoutMs: Number.NaN },
          { policy: policy([]), agents: agents(), promptTokenIds: prompt },
        ),
    ).toThrow(/agentTimeoutMs/);
    const rollout = new AipoRollout(
      {},
      {
        policy: policy(['<query agent="verify">is 1+1 = 2?</query>', ' \\boxed{2}']),
        agents: agents(),
        promptTokenIds: prompt,
      },
    );
    const states = [rollout.state];
    while (rollout.state !== 'done') states.push(await rollout.step());
    expect(states).toEqual(['generating', 'consulting', 'generating', 'done']);
    expect(rollout.result().finish).toBe('answer');
  });

  it('packs trajectories into [B,T] rows a core PolicyBatch accepts', async () => {
    const first = await runAipoRollout({
      policy: policy(['<query agent="verify">is 1+1 = 2?</query>', ' \\boxed{2}']),
      agents: agents(),
      promptTokenIds: prompt,
    });
    const second = await runAipoRollout({ policy: policy([' \\boxed{2}']), agents: agents(), promptTokenIds: prompt });
    const packed = packTrajectories({ trajectories: [first, second] });
    expect(packed.sequenceLength).toBe(first.tokenIds.length);
    assertBatchShape({ ...packed, logProbs: packed.rolloutLogProbs });
    const row = packed.sequenceLength;
    expect([...packed.sourceMask.slice(0, first.tokenIds.length)]).toEqual([...first.sourceMask]);
    expect([...packed.lossMask.slice(row + second.tokenIds.length, 2 * row)].every((value) => value === 0)).toBe(true);
    expect(packed.rolloutLogProbs.every(Number.isFinite)).toBe(true);
  });
});

describe('AIPO rollout with agents behind a real HTTP server (scripted replies)', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('inserts the boxed part of a streamed agent reply split across SSE chunks, and records a 5xx agent failure', async () => {
    const server = await startOpenAITestServer((request) => {
      const messages = request.body.messages as Array<{ content: string }>;
      const question = messages.at(-1)?.content ?? '';
      if (question.includes('formula'))
        return { kind: 'json', status: 502, body: { error: { message: 'bad gateway' } } };
      return { kind: 'sse', chunks: streamChunks(['The area of a circle is \\bo', 'xed{\\pi r', '^2}', '. Done.']) };
    });
    close = server.close;
    const model = createOpenAIChatModel({
      baseURL: server.baseURL,
      model: 'helper',
      stream: true,
      maxRetries: 1,
      baseDelayMs: 1,
    });
    const knowledge = createChatAgent({ role: knowledgeRole, model });
    const trajectory = await runAipoRollout({
      policy: policy([
        '<query agent="knowledge">area of a circle</query>',
        ' <query agent="knowledge">the formula for volume</query>',
        ' \\boxed{x}',
      ]),
      agents: createAgentRegistry([knowledge]),
      promptTokenIds: prompt,
    });
    expect(
      trajectory.consultations.map(({ status, inserted, error }) => ({ status, inserted, code: error?.code })),
    ).toEqual([
      { status: 'ok', inserted: '\\pi r^2', code: undefined },
      {
        status: 'agent-error',
        inserted: 'Error: the knowledge agent could not answer (API_ERROR). Continue without it.',
        code: 'API_ERROR',
      },
    ]);
    expect(trajectory.consultations[0]?.fullReply).toBe('The area of a circle is \\boxed{\\pi r^2}. Done.');
    expect(server.requests).toHaveLength(3);
    // the role's prompt and the prototype's decoding went over the wire
    expect(server.requests[0]?.body).toMatchObject({ temperature: 0.7, top_p: 0.8, max_tokens: 16384 });
    expect(JSON.stringify(server.requests[0]?.body.messages)).toContain(
      'area of a circle\\n\\nPut your final answer in \\\\boxed{}.',
    );
    expect(trajectory.finish).toBe('answer');
    expectAligned(trajectory);
  });

  it('records a hanging agent endpoint as a timeout and finishes the rollout', async () => {
    const server = await startOpenAITestServer(() => ({ kind: 'hang' }));
    close = server.close;
    const model = createOpenAIChatModel({ baseURL: server.baseURL, model: 'helper', timeoutMs: 5_000, maxRetries: 0 });
    const trajectory = await runAipoRollout({
      policy: policy(['<query agent="verify">is 9*9 = 81?</query>', ' \\boxed{81}']),
      agents: createAgentRegistry([createChatAgent({ role: { ...knowledgeRole, name: 'verify' }, model })]),
      promptTokenIds: prompt,
      config: { agentTimeoutMs: 100 },
    });
    expect(trajectory.consultations[0]).toMatchObject({ status: 'agent-error', error: { code: 'TIMEOUT' } });
    expect(trajectory.finish).toBe('answer');
  });
});
