// Throughput of each recipe on the demo model and settings (DEFAULT_DEMO_SETTINGS: character GRU,
// embedding 24, hidden 96, 8 × 8 rollouts of ≤ 48 tokens): policy tokens sampled per second of
// sampling time, loss tokens trained per second of update time, and the time spent inside agents
// (AIPO consultations), after the demo's supervised warm-up so AIPO rollouts actually consult.
// Run with `npm run bench -w @aipo/trainer recipes`.
import { cpus, loadavg } from 'node:os';
import { completion, startOpenAITestServer } from '@aipo/agents/testing';
import { selectBackend } from '../src/backend/select-backend';
import { DEFAULT_DEMO_SETTINGS } from '../src/demo/demo-settings';
import { createCharGruPolicy } from '../src/recipes/char-gru-policy';
import { buildProblemSets } from '../src/recipes/problem-sets';
import { parseRecipeConfig } from '../src/recipes/recipe-config';
import { runRecipe, type RunRecipeOptions } from '../src/recipes/run-recipe';
import { runSupervisedWarmup } from '../src/recipes/supervised-warmup';
import { CONSULTATION_PROMPT_PREFIX, createArithmeticAgents, createArithmeticTagSyntax } from '../src/tasks/arithmetic-agents';
import { createEndpointAgents } from '../src/tasks/endpoint-agents';

const STEPS = 6;

export default async () => {
  const backend = await selectBackend();
  // the demo's model, warm-up and recipe sizes: a warm-up that short of the demo's leaves a policy
  // that never writes a well-formed request, and then there is no consultation to measure
  const settings = DEFAULT_DEMO_SETTINGS;
  const base = parseRecipeConfig({ ...settings.recipe, recipe: 'grpo' });
  const sets = buildProblemSets({ seed: 0, ...base.task });
  const policy = await createCharGruPolicy({ ...base.model, seed: 0 });
  const warmupStarted = performance.now();
  await runSupervisedWarmup({
    policy,
    problems: settings.warmupDifficulties.flatMap((difficulty) => sets.train.get(difficulty) ?? []),
    steps: settings.warmupSteps,
    batchSize: settings.warmupBatchSize,
    learningRate: settings.warmupLearningRate,
    seed: 0,
    consultationShare: base.aipo.warmupConsultationShare,
    consultation: { agents: createArithmeticAgents(), syntax: createArithmeticTagSyntax(), trainingPrompt: (problem) => `${CONSULTATION_PROMPT_PREFIX}${problem.prompt}`, maxConsultations: base.aipo.maxConsultations },
  });
  const warmupMs = performance.now() - warmupStarted;
  const initialState = await policy.saveState();
  policy.dispose();
  const recipes: Record<string, Record<string, unknown>> = {};
  const measure = async (name: string, recipe: 'grpo' | 'luffy' | 'aipo' | 'ilr', extra: Pick<RunRecipeOptions, 'agents'> = {}) => {
    const cpuBefore = process.cpuUsage();
    const loadBefore = loadavg();
    const result = await runRecipe(
      { ...settings.recipe, recipe, steps: STEPS, evaluation: { every: 0, samples: 1, k: [1] }, task: { ...settings.recipe.task, evalProblemsPerDifficulty: 1 } },
      // ILR's first policy starts from the warm-up too; its smaller peer starts from scratch
      { initialState, ...extra },
    );
    const cpu = process.cpuUsage(cpuBefore);
    // the first step pays one-off kernel compilation; measure the rest
    const measured = result.metrics.filter((metric) => metric.step > 1);
    const policies = recipe === 'ilr' ? 2 : 1;
    const steps = measured.length / policies;
    const sum = (pick: (metric: (typeof measured)[number]) => number) => measured.reduce((total, metric) => total + pick(metric), 0);
    // ILR logs one line per policy with the whole step's wall and agent time on each
    const stepMs = sum((metric) => metric.stepMs) / policies;
    const updateMs = sum((metric) => metric.updateMs);
    const agentMs = sum((metric) => metric.agentMs) / policies;
    const rollouts = sum((metric) => metric.consultingRollouts);
    const refused = sum((metric) => metric.consultations.refused ?? 0);
    recipes[name] = {
      steps,
      meanStepMs: Math.round(stepMs / Math.max(1, steps)),
      sampledTokensPerSecond: Math.round(sum((metric) => metric.tokensBySource.policy) / ((stepMs - updateMs) / 1000)),
      trainedTokensPerSecond: Math.round(sum((metric) => metric.trainedTokens) / (updateMs / 1000)),
      // time inside agent.consult only (not the extra sampling rounds a consultation causes)
      agentMsPerStep: Number((agentMs / Math.max(1, steps)).toPrecision(3)),
      agentShareOfStep: Number((agentMs / stepMs).toPrecision(3)),
      // accepted consultations (answered by an agent) and refused requests, per AIPO rollout
      consultationsPerRollout: rollouts > 0 ? Number(((sum((metric) => metric.acceptedConsultations)) / rollouts).toFixed(3)) : null,
      refusedPerRollout: rollouts > 0 ? Number((refused / rollouts).toFixed(3)) : null,
      tokensBySource: {
        policy: sum((metric) => metric.tokensBySource.policy),
        offPolicy: sum((metric) => metric.tokensBySource.offPolicy),
        agent: sum((metric) => metric.tokensBySource.agent),
      },
      cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(1)),
      loadavg1mBeforeAfter: [Number(loadBefore[0]?.toFixed(2)), Number(loadavg()[0]?.toFixed(2))],
    };
    result.policy.dispose();
    result.peer?.dispose();
  };
  for (const recipe of ['grpo', 'luffy', 'aipo', 'ilr'] as const) await measure(recipe, recipe);
  // the same AIPO run with its agents behind real HTTP: the agents package's OpenAI-compatible chat
  // agents against a scripted server on 127.0.0.1 that answers at once (transport + parsing cost,
  // no model latency; a real endpoint adds its generation time on top)
  const server = await startOpenAITestServer(() => ({ kind: 'json', body: completion('The value is \\boxed{6}.') }));
  try {
    await measure('aipo-http-agents', 'aipo', { agents: createEndpointAgents({ baseURL: server.baseURL, model: 'scripted', apiKeyEnv: null, maxTokens: 64, timeoutMs: 10_000 }) });
  } finally {
    await server.close();
  }
  const grpoStep = Number(recipes.grpo?.meanStepMs ?? 0);
  for (const entry of Object.values(recipes)) entry.stepTimeOverGrpo = grpoStep > 0 ? Number((Number(entry.meanStepMs) / grpoStep).toFixed(2)) : null;
  return {
    backend: backend.name,
    model: `char-gru e${base.model.embeddingSize} h${base.model.hiddenSize}`,
    batch: `${base.promptsPerStep} prompts × ${base.groupSize} rollouts, ≤${base.maxResponseTokens} policy tokens each, ${base.loss.updatesPerBatch} updates per batch`,
    note: `sampling time = step time − update time (includes grading and agents); ILR's first policy starts from the warm-up, its peer from scratch; agentShareOfStep counts time inside agent.consult only; ${cpus().length} cores shared with whatever else runs; loadavg is the 1-minute load before/after each recipe`,
    warmupMs: Math.round(warmupMs),
    recipes,
  };
};
