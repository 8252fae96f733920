import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AipoError } from '@aipo/core';
import { selectBackend } from '../backend/select-backend';
import { createCharGruPolicy } from '../recipes/char-gru-policy';
import { evaluatePolicy, type PolicyEvaluation } from '../recipes/evaluate-policy';
import { buildProblemSets } from '../recipes/problem-sets';
import { parseRecipeConfig } from '../recipes/recipe-config';
import type { PolicyState } from '../recipes/recipe-policy';
import { runRecipe, type StepMetrics } from '../recipes/run-recipe';
import { RNG_STREAM, stepRng } from '../recipes/step-rng';
import { runSupervisedWarmup } from '../recipes/supervised-warmup';
import { CONSULTATION_PROMPT_PREFIX, createArithmeticAgents, createArithmeticTagSyntax } from '../tasks/arithmetic-agents';
import { DEFAULT_DEMO_SETTINGS, type DemoSettings, FULL_DEMO_SETTINGS } from './demo-settings';
import { renderDemoReport } from './render-demo-report';
import { type DemoTable, summarizeDemo } from './summarize-demo';

/** The methods a demo compares; `warmup` is the shared starting checkpoint. */
export type DemoMethod = 'warmup' | 'grpo' | 'luffy' | 'aipo' | 'ilr' | 'ilr-peer';

/** Phases reported to a progress bar. */
export type DemoPhase = 'warmup' | 'train' | 'evaluate' | 'report';

/** A progress event: `step` of `total` within a phase, for one seed and method. */
export interface DemoProgress {
  /** the phase */
  phase: DemoPhase;
  /** the seed (firstSeed + index) */
  seed: number;
  /** the method in this phase (warm-up: 'warmup') */
  method: DemoMethod;
  /** units done in the phase */
  step: number;
  /** units in the phase */
  total: number;
  /** a human-readable line (terminal mode), when there is one */
  line?: string;
}

export interface RunDemoOptions {
  /** longer warm-up and 4× the RL budget (default false) */
  full?: boolean;
  /** independent seeds (default 1; 3 gives error bars) */
  seeds?: number;
  /** first seed (default 0): seeds are firstSeed … firstSeed + seeds − 1, so seeds can run in separate processes */
  firstSeed?: number;
  /** single-agent GRPO vs ILR instead of GRPO vs LUFFY vs AIPO (default false) */
  ilr?: boolean;
  /** where metrics, results.json and report.html go */
  outDir: string;
  /** progress per phase */
  onProgress?: (event: DemoProgress) => void;
  /** cancels the run (throws ABORTED) */
  signal?: AbortSignal;
  /** override sizes (tests use tiny ones) */
  settings?: Partial<DemoSettings>;
}

/** One method's final evaluation for one seed. */
export interface DemoRun {
  /** the seed the recipe ran with */
  seed: number;
  /** method */
  method: DemoMethod;
  /** held-out evaluation of the policy alone */
  evaluation: PolicyEvaluation;
  /** per-step training metrics (empty for the warm-up) */
  metrics: StepMetrics[];
  /** policy-sampled tokens used in RL */
  sampledTokens: number;
  /** RL steps taken within the budget */
  steps: number;
  /** wall time of training + evaluation (ms) */
  wallMs: number;
}

/** What `runDemo` returns. */
export interface DemoResult {
  /** every (seed, method) run */
  runs: DemoRun[];
  /** the printed table as data */
  table: DemoTable;
  /** the table as text for a terminal */
  tableText: string;
  /** path of the HTML report */
  reportPath: string;
  /** path of results.json (all runs, metrics and settings) */
  resultsPath: string;
  /** the tfjs backend used and why */
  backend: string;
  /** sizes used */
  settings: DemoSettings;
  /** total wall time (ms) */
  wallMs: number;
}

/**
 * The embedded demo: a supervised warm-up on easy problems, then GRPO, LUFFY and AIPO (or GRPO and
 * ILR with `ilr: true`) from that same checkpoint with the same budget of policy-sampled tokens,
 * then held-out evaluation of each policy alone (no agents) at every difficulty, pass@k for
 * k = 1…64. Writes `results.json`, per-method `metrics.jsonl` and a self-contained `report.html`.
 */
export async function runDemo(options: RunDemoOptions): Promise<DemoResult> {
  const { full = false, seeds = 1, firstSeed = 0, ilr = false, outDir, onProgress, signal } = options;
  if (!Number.isInteger(seeds) || seeds < 1 || seeds > 20) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `seeds must be an integer in 1..20, got ${seeds}` });
  }
  if (!Number.isInteger(firstSeed) || firstSeed < 0) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `firstSeed must be a non-negative integer, got ${firstSeed}` });
  }
  if (typeof outDir !== 'string' || outDir === '') throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'outDir is required' });
  const started = performance.now();
  const settings: DemoSettings = { ...(full ? FULL_DEMO_SETTINGS : DEFAULT_DEMO_SETTINGS), ...options.settings };
  const backend = await selectBackend();
  await mkdir(outDir, { recursive: true });
  const methods: DemoMethod[] = ilr ? ['grpo', 'ilr'] : ['grpo', 'luffy', 'aipo'];
  const agents = createArithmeticAgents();
  const syntax = createArithmeticTagSyntax();
  const runs: DemoRun[] = [];

  for (let seed = firstSeed; seed < firstSeed + seeds; seed += 1) {
    const base = parseRecipeConfig({ ...settings.recipe, recipe: 'grpo', seed, sampledTokenBudget: settings.sampledTokenBudget });
    const sets = buildProblemSets({ seed, ...base.task });
    const warmupProblems = settings.warmupDifficulties.flatMap((difficulty) => sets.train.get(difficulty) ?? []);
    if (warmupProblems.length === 0) {
      throw new AipoError({ code: 'INVALID_CONFIG', message: 'warm-up difficulties must be among the training difficulties' });
    }
    const warmUp = async (hiddenSize: number, label: DemoMethod): Promise<PolicyState> => {
      const policy = await createCharGruPolicy({ embeddingSize: base.model.embeddingSize, hiddenSize, seed: label === 'warmup' ? seed : seed + 1 });
      await runSupervisedWarmup({
        policy,
        problems: warmupProblems,
        steps: settings.warmupSteps,
        batchSize: settings.warmupBatchSize,
        learningRate: settings.warmupLearningRate,
        seed,
        consultationShare: base.aipo.warmupConsultationShare,
        consultation: { agents, syntax, trainingPrompt: (problem) => `${CONSULTATION_PROMPT_PREFIX}${problem.prompt}`, maxConsultations: base.aipo.maxConsultations },
        ...(signal ? { signal } : {}),
        onStep: (step, loss) =>
          onProgress?.({ phase: 'warmup', seed, method: label, step: step + 1, total: settings.warmupSteps, line: `warm-up ${label} step ${step + 1} nll ${loss.toFixed(3)}` }),
      });
      const state = await policy.saveState();
      if (label === 'warmup') {
        const evaluationStarted = performance.now();
        const evaluation = await evaluateAlone({ policy, problems: sets.evaluation, samples: settings.evaluationSamples, seed, maxTokens: base.maxResponseTokens, onProgress, method: 'warmup', ...(signal ? { signal } : {}) });
        runs.push({ seed, method: 'warmup', evaluation, metrics: [], sampledTokens: 0, steps: 0, wallMs: performance.now() - evaluationStarted });
      }
      policy.dispose();
      return state;
    };
    const initialState = await warmUp(base.model.hiddenSize, 'warmup');
    const initialPeerState = ilr ? await warmUp(base.ilr.peerHiddenSize, 'ilr-peer') : undefined;

    for (const method of methods) {
      signal?.throwIfAborted();
      const methodStarted = performance.now();
      const recipe = method === 'ilr' ? 'ilr' : method;
      const result = await runRecipe(
        { ...settings.recipe, recipe, seed, sampledTokenBudget: recipe === 'ilr' ? settings.sampledTokenBudget * 2 : settings.sampledTokenBudget, evaluation: { ...settings.recipe.evaluation, every: 0 } },
        {
          outDir: join(outDir, `seed-${seed}`, method),
          initialState,
          ...(initialPeerState ? { initialPeerState } : {}),
          ...(signal ? { signal } : {}),
          onProgress: (event) => {
            if (event.phase === 'train') {
              const budget = recipe === 'ilr' ? settings.sampledTokenBudget * 2 : settings.sampledTokenBudget;
              const used = event.metrics.at(-1)?.sampledTokensTotal ?? 0;
              onProgress?.({ phase: 'train', seed, method, step: Math.min(used, budget), total: budget, line: event.line });
            }
          },
        },
      );
      const policies = result.peer ? [{ method, policy: result.policy }, { method: 'ilr-peer' as const, policy: result.peer }] : [{ method, policy: result.policy }];
      for (const entry of policies) {
        const evaluation = await evaluateAlone({ policy: entry.policy, problems: sets.evaluation, samples: settings.evaluationSamples, seed, maxTokens: base.maxResponseTokens, onProgress, method: entry.method, ...(signal ? { signal } : {}) });
        runs.push({
          seed,
          method: entry.method,
          evaluation,
          metrics: result.metrics.filter((metric) => metric.policyId === (entry.method === 'ilr-peer' ? 'b' : 'a')),
          sampledTokens: result.sampledTokens,
          steps: result.stepsCompleted,
          wallMs: performance.now() - methodStarted,
        });
        entry.policy.dispose();
      }
    }
  }

  onProgress?.({ phase: 'report', seed: firstSeed + seeds - 1, method: methods.at(-1) ?? 'grpo', step: 0, total: 1 });
  const { table, text } = summarizeDemo({ runs, seeds });
  const resultsPath = join(outDir, 'results.json');
  const reportPath = join(outDir, 'report.html');
  const wallMs = performance.now() - started;
  await writeFile(resultsPath, JSON.stringify({ settings, seeds, ilr, full, backend: backend.name, wallMs, table, runs }, null, 1));
  await writeFile(reportPath, renderDemoReport({ runs, table, settings, seeds, ilr, backend: `${backend.name} (${backend.reason})`, wallMs }));
  onProgress?.({ phase: 'report', seed: firstSeed + seeds - 1, method: methods.at(-1) ?? 'grpo', step: 1, total: 1 });
  return { runs, table, tableText: text, reportPath, resultsPath, backend: backend.name, settings, wallMs };
}

async function evaluateAlone(options: {
  policy: Awaited<ReturnType<typeof createCharGruPolicy>>;
  problems: Parameters<typeof evaluatePolicy>[0]['problems'];
  samples: number;
  seed: number;
  maxTokens: number;
  method: DemoMethod;
  onProgress: RunDemoOptions['onProgress'];
  signal?: AbortSignal;
}): Promise<PolicyEvaluation> {
  const { policy, problems, samples, seed, maxTokens, method, onProgress, signal } = options;
  // the same evaluation draws for every method of a seed: differences come from the policies
  return evaluatePolicy({
    policy,
    problems,
    samples,
    k: [...new Set([1, 8, samples].filter((k) => k <= samples))],
    temperature: 1,
    maxTokens,
    rng: stepRng({ seed, stream: RNG_STREAM.evaluation, step: 1_000_000 }),
    ...(signal ? { signal } : {}),
    onProgress: (done, total) => onProgress?.({ phase: 'evaluate', seed, method, step: done, total }),
  });
}
