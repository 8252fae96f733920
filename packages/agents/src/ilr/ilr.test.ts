import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRng } from '@aipo/core';
import {
  abilityFromAccuracy,
  createInteractionSelector,
  createJsonlTranscript,
  createOpenAIChatModel,
  createPerceptionCalibrationHook,
  difficultyFromPercentile,
  estimateDifficultyBySelfRanking,
  parseRanking,
  runIdea3,
} from '../index';
import { completion, type ReceivedRequest, startOpenAITestServer } from '../testing/openai-test-server';

describe('Dynamic Interaction selection (IRT rule from @aipo/core)', () => {
  it('maps validation accuracy and hardness percentiles to one log-odds scale', () => {
    expect(abilityFromAccuracy(0.5)).toBe(0);
    expect(abilityFromAccuracy(0.8)).toBeCloseTo(Math.log(4), 12);
    expect(Number.isFinite(abilityFromAccuracy(1))).toBe(true);
    expect(() => abilityFromAccuracy(1.2)).toThrow(/\[0, 1\]/);
    expect(difficultyFromPercentile(0.5)).toBe(0);
    expect(difficultyFromPercentile(0.9)).toBeGreaterThan(0);
    expect(() => difficultyFromPercentile(Number.NaN)).toThrow(/\[0, 1\]/);
  });

  it('selects per participant (own P(q,i)) or jointly (mean ability)', () => {
    // strong: P = σ(1.7·2) > 0.5 → compete; weak: P = σ(−1.7) < 0.5 → cooperate
    const selector = createInteractionSelector({ kind: 'irt', abilities: { strong: 2, weak: -1 } });
    expect(selector.select({ difficulty: 0, participants: ['strong', 'weak'] })).toEqual({
      strong: 'compete',
      weak: 'cooperate',
    });
    // mean ability 0.5 vs difficulty 0.6 → P < 0.5 → both cooperate
    const joint = createInteractionSelector({ kind: 'irt', abilities: { strong: 2, weak: -1 }, decision: 'joint' });
    expect(joint.select({ difficulty: 0.6, participants: ['strong', 'weak'] })).toEqual({
      strong: 'cooperate',
      weak: 'cooperate',
    });
    expect(joint.select({ difficulty: 0.4, participants: ['strong', 'weak'] })).toEqual({
      strong: 'compete',
      weak: 'compete',
    });
    expect(() => selector.select({ difficulty: 0, participants: ['other'] })).toThrow(/no ability/);
  });

  it('uses a fixed cooperation probability for the ablation, one shared draw per question', () => {
    const always = createInteractionSelector({ kind: 'fixed', cooperationProbability: 1 });
    expect(always.select({ difficulty: 9, participants: ['a', 'b'] })).toEqual({ a: 'cooperate', b: 'cooperate' });
    const never = createInteractionSelector({ kind: 'fixed', cooperationProbability: 0 });
    expect(never.select({ difficulty: -9, participants: ['a'] })).toEqual({ a: 'compete' });
    const half = createInteractionSelector({ kind: 'fixed', cooperationProbability: 0.5, rng: createRng(7) });
    const picks = Array.from({ length: 400 }, () => half.select({ difficulty: 0, participants: ['a', 'b'] }));
    expect(picks.every((pick) => pick.a === pick.b)).toBe(true);
    const cooperations = picks.filter((pick) => pick.a === 'cooperate').length;
    expect(cooperations).toBeGreaterThan(150);
    expect(cooperations).toBeLessThan(250);
    expect(() => createInteractionSelector({ kind: 'fixed', cooperationProbability: 0.5 })).toThrow(/rng/);
    expect(() => createInteractionSelector({ kind: 'fixed', cooperationProbability: 2 })).toThrow(/probability/);
  });
});

describe('ILR over real HTTP (scripted replies)', () => {
  let cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const step of cleanup) await step();
    cleanup = [];
  });

  async function serve(respond: (request: ReceivedRequest) => string | number) {
    const server = await startOpenAITestServer((request) => {
      const reply = respond(request);
      return typeof reply === 'number'
        ? { kind: 'json', status: reply, body: { error: { message: 'down' } } }
        : { kind: 'json', body: completion(reply) };
    });
    cleanup.push(server.close);
    return server;
  }
  const lastUser = (request: ReceivedRequest) =>
    (request.body.messages as Array<{ content: string }>).at(-1)?.content ?? '';

  it('estimates difficulty by self-ranking, aggregating models and listing unparsable replies', async () => {
    const server = await serve((request) =>
      request.body.model === 'a' ? '3, 1, 2' : request.body.model === 'b' ? '3 2 1' : 'I cannot rank these',
    );
    const models = ['a', 'b', 'c'].map((model) => createOpenAIChatModel({ baseURL: server.baseURL, model }));
    const { difficulties, failures } = await estimateDifficultyBySelfRanking({
      questions: ['q1', 'q2', 'q3'],
      models,
      aggregate: 'mean',
    });
    // a: q3 easiest, q1 middle, q2 hardest; b: q3, q2, q1
    const d = (percentile: number) => difficultyFromPercentile(percentile);
    expect(difficulties[0]).toBeCloseTo((d(3 / 6) + d(5 / 6)) / 2, 12);
    expect(difficulties[1]).toBeCloseTo((d(5 / 6) + d(3 / 6)) / 2, 12);
    expect(difficulties[2]).toBeCloseTo(d(1 / 6), 12);
    expect(difficulties[2]).toBeCloseTo(-Math.log(5), 12);
    expect(failures).toEqual([
      { modelId: 'c', questionIndices: [0, 1, 2], reason: expect.stringContaining('unparsable') },
    ]);
    expect(lastUser(server.requests[0] as ReceivedRequest)).toContain('1. q1\n\n2. q2\n\n3. q3');
    expect(server.requests[0]?.body.temperature).toBe(0);
  });

  it('gives unranked questions the median difficulty and records endpoint failures', async () => {
    const server = await serve(() => 500);
    const model = createOpenAIChatModel({ baseURL: server.baseURL, model: 'down', maxRetries: 0 });
    const { difficulties, failures } = await estimateDifficultyBySelfRanking({
      questions: ['q1', 'q2'],
      models: [model],
      aggregate: 'median',
    });
    expect(difficulties).toEqual([0, 0]);
    expect(failures[0]?.reason).toMatch(/HTTP 500/);
    expect(parseRanking('1, 1, 2', 3)).toBeUndefined();
    expect(parseRanking('ranking: 2, 1', 2)).toEqual([0.75, 0.25]);
  });

  it('runs Idea3 sharing → analysis → fusion, passing peers their outputs, with trained flags and a transcript', async () => {
    const server = await serve((request) => {
      const name = String(request.body.model);
      const system = (request.body.messages as Array<{ content: string }>)[0]?.content ?? '';
      if (system.includes('Write your final solution')) return `${name} final \\boxed{4}`;
      if (system.includes('Solve the problem')) return `${name} solution \\boxed{${name === 'alice' ? 4 : 5}}`;
      return `${name} analysis`;
    });
    const directory = await mkdtemp(join(tmpdir(), 'idea3-'));
    cleanup.push(() => rm(directory, { recursive: true, force: true }));
    const transcript = createJsonlTranscript(join(directory, 'idea3.jsonl'));
    const participants = ['alice', 'bob'].map((name) => ({
      name,
      model: createOpenAIChatModel({ baseURL: server.baseURL, model: name }),
    }));
    const { turns, finalAnswers } = await runIdea3({
      question: 'What is 2+2?',
      participants,
      modes: { alice: 'compete', bob: 'cooperate' },
      trainedStages: ['analysis', 'fusion'],
      transcript,
    });
    expect(turns.map((turn) => [turn.participant, turn.stage, turn.mode, turn.trained])).toEqual([
      ['alice', 'sharing', 'compete', false],
      ['bob', 'sharing', 'cooperate', false],
      ['alice', 'analysis', 'compete', true],
      ['bob', 'analysis', 'cooperate', true],
      ['alice', 'fusion', 'compete', true],
      ['bob', 'fusion', 'cooperate', true],
    ]);
    expect(finalAnswers).toEqual({ alice: 'alice final \\boxed{4}', bob: 'bob final \\boxed{4}' });
    const aliceAnalysis = turns[2]?.messages.at(-1)?.content ?? '';
    expect(aliceAnalysis).toContain('[bob]\nbob solution \\boxed{5}');
    expect(aliceAnalysis).not.toContain('alice solution');
    expect(turns[2]?.messages[0]?.content).toContain('competing');
    expect(turns[3]?.messages[0]?.content).toContain('working together');
    const bobFusion = turns[5]?.messages.at(-1)?.content ?? '';
    expect(bobFusion).toContain('Your solution:\nbob solution');
    expect(bobFusion).toContain('[alice]\nalice analysis');
    await transcript.flush();
    const lines = (await readFile(join(directory, 'idea3.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(6);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      kind: 'idea3',
      participant: 'alice',
      stage: 'sharing',
      question: 'What is 2+2?',
    });
  });

  it('keeps going when a participant fails a turn, and supports three participants', async () => {
    const server = await serve((request) =>
      request.body.model === 'carol' ? 503 : `${String(request.body.model)} says`,
    );
    const participants = ['alice', 'bob', 'carol'].map((name) => ({
      name,
      model: createOpenAIChatModel({ baseURL: server.baseURL, model: name, maxRetries: 0 }),
    }));
    const { turns } = await runIdea3({ question: 'Q', participants, modes: 'cooperate' });
    expect(turns).toHaveLength(9);
    expect(turns.filter((turn) => turn.error).map((turn) => [turn.participant, turn.error?.code])).toEqual([
      ['carol', 'API_ERROR'],
      ['carol', 'API_ERROR'],
      ['carol', 'API_ERROR'],
    ]);
    expect(turns[3]?.messages.at(-1)?.content).toContain('[carol]\n(no answer)');
    expect(turns.filter((turn) => turn.trained).map((turn) => turn.stage)).toEqual(['fusion', 'fusion', 'fusion']);
    await expect(
      runIdea3({ question: 'Q', participants: participants.slice(0, 1), modes: 'cooperate' }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('perception calibration hook (Eq. 5 computed by @aipo/core)', () => {
  const groupIds = Int32Array.from([0, 0, 0, 0, 1, 1]);
  it('passes each participant its peers’ rewards and returns calibrated rewards and per-question statistics', () => {
    const hook = createPerceptionCalibrationHook();
    // question 0: alice [1,0,1,1], bob [0,0,1,0] (avg 0.25, range 1); question 1: alice [0,1], bob [1,1] (range 0 → term dropped)
    const { rewards, stats } = hook({
      alice: { rewards: [1, 0, 1, 1, 0, 1], groupIds },
      bob: { rewards: [0, 0, 1, 0, 1, 1], groupIds },
    });
    expect([...(rewards.alice ?? [])]).toEqual([1.75, -0.25, 1.75, 1.75, 0, 1]);
    // bob vs alice on question 0: avg 0.75, range 1; question 1: alice range 1, avg 0.5
    expect([...(rewards.bob ?? [])]).toEqual([-0.75, -0.75, 1.25, -0.75, 1.5, 1.5]);
    expect(stats.alice?.get(0)).toEqual({ avg: 0.75, max: 1, min: 0 });
    expect(stats.bob?.get(1)).toEqual({ avg: 1, max: 1, min: 1 });
  });

  it('passes raw rewards through when disabled, and rejects bad input with a code', () => {
    const raw = createPerceptionCalibrationHook({ enabled: false })({
      alice: { rewards: [1, 0], groupIds: Int32Array.from([0, 0]) },
      bob: { rewards: [0, 0], groupIds: Int32Array.from([0, 0]) },
    });
    expect([...(raw.rewards.alice ?? [])]).toEqual([1, 0]);
    const hook = createPerceptionCalibrationHook();
    expect(() =>
      hook({
        alice: { rewards: [Number.NaN], groupIds: Int32Array.from([0]) },
        bob: { rewards: [1], groupIds: Int32Array.from([0]) },
      }),
    ).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
    expect(() =>
      hook({
        alice: { rewards: [1], groupIds: Int32Array.from([0]) },
        bob: { rewards: [1], groupIds: Int32Array.from([5]) },
      }),
    ).toThrow(/no samples for question/);
  });
});
