import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { completion, type ReceivedRequest, type ScriptedReply, startOpenAITestServer } from '@aipo/agents/testing';
import { createRng, TokenSource } from '@aipo/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArithmeticTagSyntax } from '../tasks/arithmetic-agents';
import { loadDatasetProblemSets } from '../tasks/dataset-task';
import { createEndpointAgents } from '../tasks/endpoint-agents';
import { createCharGruPolicy } from './char-gru-policy';
import { sampleConsultationGroups } from './consultation-rollout';
import { runRecipe } from './run-recipe';
import { scriptSamples } from './testing/script-samples';

// Recorded-style agent replies, one per role, chosen by the role's system prompt: the verify role
// answers with a verdict line, the others box their answer (the prototype inserts only the box).
const reply = (request: ReceivedRequest): ScriptedReply => ({ kind: 'json', body: replyBody(request) });
const replyBody = (request: ReceivedRequest) => {
  const messages = request.body.messages as Array<{ role: string; content: string }>;
  const system = messages.find((message) => message.role === 'system')?.content ?? '';
  if (system.includes('You check claims')) return completion('Verdict: correct');
  if (system.includes('definitions, theorems')) return completion('Adding two and two gives \\boxed{4}.');
  return completion('First add the ones: \\boxed{2+2=4}');
};

const PROBLEMS = [
  { problem: '2+2', answer: '4' },
  { problem: '3+1', answer: 4 },
  { problem: '1+1', answer: '2' },
  { problem: '5-3', answer: '2', level: 'Level 2' },
  { problem: '9-1', answer: '8' },
];

let server: Awaited<ReturnType<typeof startOpenAITestServer>>;
let directory: string;
let datasetPath: string;
beforeAll(async () => {
  server = await startOpenAITestServer((request) => reply(request));
  directory = await mkdtemp(join(tmpdir(), 'aipo-endpoint-'));
  datasetPath = join(directory, 'tiny.jsonl');
  await writeFile(datasetPath, `${PROBLEMS.map((record) => JSON.stringify(record)).join('\n')}\n`);
});
afterAll(async () => {
  await server.close();
  await rm(directory, { recursive: true, force: true });
});

/** A real GRU that writes a knowledge request first, then boxes the answer it was given. */
const consultingPolicy = async () =>
  scriptSamples(await createCharGruPolicy({ embeddingSize: 8, hiddenSize: 16, seed: 11 }), (context) => {
    // the question follows "Solve: " (evaluation prompt) or ends the training prompt's system text
    const match = /(?:Solve: |\n\n)(\d[+-]\d)\n/.exec(context);
    if (match === null) return undefined;
    const after = context.slice(match.index + match[0].length);
    if (!after.includes('<result>')) return { text: `I need <knowledge>${match[1]}</knowledge>`, stop: '</knowledge>' };
    return { text: `\\boxed{${/<result>([^<]*)<\/result>/.exec(after)?.[1] ?? ''}}`, end: true };
  });

describe('AIPO with agents on an OpenAI-compatible endpoint', () => {
  it('inserts the endpoint agent reply as agent tokens, source-masked, after the request', async () => {
    const agents = createEndpointAgents({ baseURL: server.baseURL, model: 'agent-model', apiKeyEnv: null, maxTokens: 64, timeoutMs: 10_000 });
    const policy = await consultingPolicy();
    const sets = await loadDatasetProblemSets({ path: datasetPath, evalProblems: 1, prompt: 'Solve: {problem}\n', seed: 0 });
    const problems = [...sets.train.values()].flat().slice(0, 2);
    const before = server.requests.length;
    const timing = { agentMs: 0 };
    const trajectories = await sampleConsultationGroups(
      {
        policy,
        problems,
        trainingPrompt: (problem) => problem.prompt,
        rolloutsPerGroup: 2,
        agents,
        syntax: createArithmeticTagSyntax(),
        maxConsultations: 3,
        maxTokens: 64,
        temperature: 1,
        rng: createRng(0),
      },
      timing,
    );
    const requests = server.requests.slice(before);
    expect(requests).toHaveLength(4);
    for (const request of requests) {
      expect(request.path).toBe('/v1/chat/completions');
      expect(request.body.model).toBe('agent-model');
      expect(request.body.max_tokens).toBe(64);
    }
    expect(timing.agentMs).toBeGreaterThan(0);
    for (const trajectory of trajectories) {
      const expression = trajectory.problem.expression;
      expect(trajectory.text).toBe(`I need <knowledge>${expression}</knowledge><result>4</result>\\boxed{4}`);
      expect(trajectory.consultations).toEqual({ knowledge: 1 });
      // the boxed part of the endpoint's reply, in result tags, is exactly the agent-sourced span
      const agentText = policy.decode(trajectory.response.filter((_, t) => trajectory.sources[t] === TokenSource.agent));
      expect(agentText).toBe('<result>4</result>');
      const firstAgent = trajectory.sources.indexOf(TokenSource.agent);
      expect(policy.decode(trajectory.response.slice(0, firstAgent))).toBe(`I need <knowledge>${expression}</knowledge>`);
      expect(trajectory.oldLogProbs.filter((_, t) => trajectory.sources[t] === TokenSource.agent).every(Number.isNaN)).toBe(true);
      expect(trajectory.oldLogProbs.filter((_, t) => trajectory.sources[t] === TokenSource.policy).every(Number.isFinite)).toBe(true);
    }
    // the request the knowledge role forwarded carries the policy's query
    const forwarded = requests.map((request) => (request.body.messages as Array<{ content: string }>).at(-1)?.content ?? '');
    expect(forwarded.some((content) => content.startsWith('2+2') || content.startsWith('3+1') || content.startsWith('1+1') || content.startsWith('9-1'))).toBe(true);
    policy.dispose();
  });

  it('runRecipe trains aipo on a JSONL dataset with endpoint agents, counting consultations and agent time', async () => {
    const policy = await consultingPolicy();
    const result = await runRecipe(
      {
        recipe: 'aipo',
        seed: 1,
        task: { dataset: { path: datasetPath, evalProblems: 1, prompt: 'Solve: {problem}\n' } },
        agents: { baseURL: server.baseURL, model: 'agent-model', maxTokens: 32 },
        steps: 1,
        promptsPerStep: 2,
        groupSize: 2,
        maxResponseTokens: 64,
        evaluation: { every: 0, samples: 1, k: [1] },
      },
      { policy },
    );
    const [metrics] = result.metrics;
    expect(metrics?.consultations).toEqual({ knowledge: 4 });
    expect(metrics?.acceptedConsultations).toBe(4);
    expect(metrics?.consultingRollouts).toBe(4);
    expect(metrics?.tokensBySource.agent).toBe(4 * '<result>4</result>'.length);
    expect(metrics?.agentMs).toBeGreaterThan(0);
    // agent tokens entered the loss with the AIPO coefficient
    expect(metrics?.agentProbabilityMean).toBeGreaterThan(0);
    // the dataset's held-out problem is evaluated with the plain prompt and no agents
    expect(result.evaluationProblems).toHaveLength(1);
    expect(result.evaluationProblems[0]?.prompt).toMatch(/^Solve: \d[+-]\d\n$/);
    policy.dispose();
  });

  it('fails fast with typed errors on a missing key variable, a bad dataset or agents on another recipe', async () => {
    expect(() => createEndpointAgents({ baseURL: server.baseURL, model: 'm', apiKeyEnv: 'AIPO_TEST_UNSET_KEY', maxTokens: 8, timeoutMs: 1000, env: {} })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
    await expect(runRecipe({ recipe: 'grpo', agents: { baseURL: server.baseURL, model: 'm' } })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    const bad = join(directory, 'bad.jsonl');
    await writeFile(bad, '{"problem": "1+1", "answer": "2"}\n{"problem": "", "answer": "3"}\n');
    await expect(loadDatasetProblemSets({ path: bad, evalProblems: 1, prompt: '{problem}', seed: 0 })).rejects.toMatchObject({
      code: 'INVALID_DATASET',
      message: expect.stringContaining('bad.jsonl:2'),
    });
    await writeFile(bad, '{"problem": "1+1", "answer": "2"}\nnot json\n');
    await expect(loadDatasetProblemSets({ path: bad, evalProblems: 1, prompt: '{problem}', seed: 0 })).rejects.toMatchObject({ code: 'INVALID_DATASET' });
    await expect(loadDatasetProblemSets({ path: datasetPath, evalProblems: 5, prompt: '{problem}', seed: 0 })).rejects.toMatchObject({ code: 'INVALID_DATASET' });
    await expect(loadDatasetProblemSets({ path: join(directory, 'missing.jsonl'), evalProblems: 1, prompt: '{problem}', seed: 0 })).rejects.toMatchObject({ code: 'IO_ERROR' });
    await expect(
      runRecipe({ recipe: 'luffy', task: { dataset: { path: datasetPath, evalProblems: 1 } }, steps: 1 }),
    ).rejects.toMatchObject({ code: 'INVALID_DATASET' });
  });
});

describe('dataset tasks', () => {
  const math500 = new URL('../../../../../shared/datasets/math500/test.jsonl', import.meta.url);
  it('reads MATH-500 as a recipe task (levels as difficulties, answers for the math grader)', async (context) => {
    const { existsSync } = await import('node:fs');
    if (!existsSync(math500)) {
      if (process.env.CI) throw new Error(`MATH-500 not found at ${math500.pathname}`);
      console.log(`skipped: MATH-500 not found at ${math500.pathname}`);
      context.skip();
    }
    const sets = await loadDatasetProblemSets({ path: math500.pathname, evalProblems: 50, prompt: '{problem}\nAnswer in \\boxed{}.\n', seed: 0 });
    expect(sets.evaluation).toHaveLength(50);
    const train = [...sets.train.values()].flat();
    expect(train).toHaveLength(450);
    expect([...sets.train.keys()]).toEqual([1, 2, 3, 4, 5]);
    expect(train.every((problem) => problem.answer !== '' && problem.prompt.endsWith('Answer in \\boxed{}.\n'))).toBe(true);
  });
});
