import { afterEach, describe, expect, it } from 'vitest';
import {
  allRolloutsFailed,
  buildEvaluationMessages,
  buildTrainingMessages,
  builtinAgentRoles,
  createAgentRoleRegistry,
  createChatAgent,
  createOpenAIChatModel,
  createTagSyntax,
  highEntropyTrigger,
  verifyRole,
} from '../index';
import { completion, startOpenAITestServer } from '../testing/openai-test-server';

describe('agent roles', () => {
  it('register the three AIPO roles and accept new ones; duplicates are rejected', () => {
    const roles = createAgentRoleRegistry();
    expect(roles.list()).toEqual(['verify', 'knowledge', 'reasoning']);
    roles.register('critic', { ...verifyRole, name: 'critic' });
    expect(roles.get('critic').extraction).toBe('verdict');
    expect(() => roles.register('verify', verifyRole)).toThrow(/already registered/);
    expect(() => roles.get('nope')).toThrow(/available: verify, knowledge, reasoning, critic/);
    expect(builtinAgentRoles.map((role) => role.extraction)).toEqual(['verdict', 'boxed', 'boxed']);
  });

  describe('a chat-backed verify agent over real HTTP (scripted replies)', () => {
    let close: (() => Promise<void>) | undefined;
    afterEach(async () => close?.());
    it('sends the role prompt and returns only the verdict with the error', async () => {
      const server = await startOpenAITestServer(() => ({
        kind: 'json',
        body: completion('Let me check.\nVerdict: incorrect\nError: 7*8 = 56, not 54'),
      }));
      close = server.close;
      const agent = createChatAgent({
        role: verifyRole,
        model: createOpenAIChatModel({ baseURL: server.baseURL, model: 'judge' }),
        decoding: { temperature: 0 },
      });
      const reply = await agent.consult({ query: 'is 7*8 = 54?' });
      expect(reply.text).toBe('incorrect: 7*8 = 56, not 54');
      expect(reply.fullText).toContain('Let me check.');
      expect(server.requests[0]?.body).toMatchObject({ temperature: 0, top_p: 0.8 });
      const messages = server.requests[0]?.body.messages as Array<{ role: string; content: string }>;
      expect(messages[0]?.content).toContain('Verdict: correct');
      expect(messages[1]).toEqual({ role: 'user', content: 'is 7*8 = 54?' });
    });
  });
});

describe('training and evaluation prompts', () => {
  it('the training prompt lists agents, syntax, budget and result tags; the evaluation prompt has none', () => {
    const training = buildTrainingMessages({
      question: 'Q?',
      agents: builtinAgentRoles,
      syntax: createTagSyntax({ kind: 'single', defaultAgent: 'reasoning' }),
      maxConsultations: 3,
    });
    const system = training[0]?.content ?? '';
    expect(system).toContain('up to 3 self-contained questions');
    expect(system).toContain('<query agent="NAME">your question</query>');
    expect(system).toContain('- verify: checks a claim');
    expect(system).toContain('<result>…</result>');
    expect(training[1]).toEqual({ role: 'user', content: 'Q?' });
    const evaluation = buildEvaluationMessages({ question: 'Q?' });
    expect(JSON.stringify(evaluation)).not.toMatch(/query|result|agent/);
    expect(evaluation[0]?.content).toContain('\\boxed{}');
  });
});

describe('bottleneck detection helpers', () => {
  it('allRolloutsFailed is true only for a non-empty group with no success', () => {
    expect(allRolloutsFailed([0, 0, 0])).toBe(true);
    expect(allRolloutsFailed([0, 1, 0])).toBe(false);
    expect(allRolloutsFailed([])).toBe(false);
    expect(allRolloutsFailed([0, Number.NaN])).toBe(true);
  });
  it('highEntropyTrigger fires on a high mean surprisal only', () => {
    const trigger = highEntropyTrigger({ maxEntropy: 1, agent: 'verify' });
    const context = { windowTokenIds: [1, 2], responseText: 'abc', consultationsUsed: 0, responseTokens: 2 };
    expect(trigger.check({ ...context, windowLogProbs: [-0.1, -0.2] })).toBeUndefined();
    expect(trigger.check({ ...context, windowLogProbs: [-2, -1] })).toMatchObject({ agent: 'verify' });
    expect(trigger.check({ ...context, windowLogProbs: [] })).toBeUndefined();
  });
});
