// Throughput of each recipe on the demo model (character GRU, embedding 32, hidden 128): policy
// tokens sampled per second of sampling time, loss tokens trained per second of update time, and
// the share of step time spent inside agents (AIPO consultations). Starts from a short supervised
// warm-up so AIPO rollouts actually consult. Run with `npm run bench -w @aipo/trainer recipes`.
import { cpus } from 'node:os';
import { selectBackend } from '../src/backend/select-backend';
import { createCharGruPolicy } from '../src/recipes/char-gru-policy';
import { buildProblemSets } from '../src/recipes/problem-sets';
import { parseRecipeConfig } from '../src/recipes/recipe-config';
import { runRecipe } from '../src/recipes/run-recipe';
import { runSupervisedWarmup } from '../src/recipes/supervised-warmup';
import { CONSULTATION_PROMPT_PREFIX, createArithmeticAgents, createArithmeticTagSyntax } from '../src/tasks/arithmetic-agents';

const STEPS = 6;

export default async () => {
  const backend = await selectBackend();
  const base = parseRecipeConfig({ recipe: 'grpo' });
  const sets = buildProblemSets({ seed: 0, ...base.task });
  const policy = await createCharGruPolicy({ ...base.model, seed: 0 });
  const warmupStarted = performance.now();
  await runSupervisedWarmup({
    policy,
    problems: [...(sets.train.get(1) ?? []), ...(sets.train.get(2) ?? [])],
    steps: 40,
    batchSize: 64,
    learningRate: 3e-3,
    seed: 0,
    consultationShare: 0.3,
    consultation: { agents: createArithmeticAgents(), syntax: createArithmeticTagSyntax(), trainingPrompt: (problem) => `${CONSULTATION_PROMPT_PREFIX}${problem.prompt}`, maxConsultations: 3 },
  });
  const warmupMs = performance.now() - warmupStarted;
  const initialState = await policy.saveState();
  policy.dispose();
  const recipes: Record<string, unknown> = {};
  for (const recipe of ['grpo', 'luffy', 'aipo', 'ilr'] as const) {
    const result = await runRecipe(
      { recipe, steps: STEPS, evaluation: { every: 0, samples: 1, k: [1] }, task: { evalProblemsPerDifficulty: 1 } },
      recipe === 'ilr' ? {} : { initialState },
    );
    // the first step pays one-off kernel compilation; measure the rest
    const measured = result.metrics.filter((metric) => metric.step > 1);
    const sum = (pick: (metric: (typeof measured)[number]) => number) => measured.reduce((total, metric) => total + pick(metric), 0);
    const stepMs = sum((metric) => metric.stepMs) / (recipe === 'ilr' ? 2 : 1);
    const updateMs = sum((metric) => metric.updateMs);
    const agentMs = sum((metric) => metric.agentMs) / (recipe === 'ilr' ? 2 : 1);
    recipes[recipe] = {
      steps: measured.length / (recipe === 'ilr' ? 2 : 1),
      meanStepMs: Math.round(stepMs / Math.max(1, measured.length / (recipe === 'ilr' ? 2 : 1))),
      sampledTokensPerSecond: Math.round(sum((metric) => metric.tokensBySource.policy) / ((stepMs - updateMs) / 1000)),
      trainedTokensPerSecond: Math.round(sum((metric) => metric.trainedTokens) / (updateMs / 1000)),
      agentShareOfStep: Number((agentMs / stepMs).toFixed(4)),
      consultationsPerRollout: Number((sum((metric) => Object.values(metric.consultations).reduce((a, b) => a + b, 0)) / sum((metric) => metric.trainedSequences)).toFixed(3)),
      tokensBySource: {
        policy: sum((metric) => metric.tokensBySource.policy),
        offPolicy: sum((metric) => metric.tokensBySource.offPolicy),
        agent: sum((metric) => metric.tokensBySource.agent),
      },
    };
    result.policy.dispose();
    result.peer?.dispose();
  }
  return {
    backend: backend.name,
    model: `char-gru e${base.model.embeddingSize} h${base.model.hiddenSize}`,
    batch: `${base.promptsPerStep} prompts × ${base.groupSize} rollouts, ≤${base.maxResponseTokens} policy tokens each, ${base.loss.updatesPerBatch} updates per batch`,
    note: `sampling time = step time − update time (includes grading and agents); ILR is from a random init (its peer has no warm-up here); ${cpus().length} cores shared with whatever else runs`,
    warmupMs: Math.round(warmupMs),
    recipes,
  };
};
