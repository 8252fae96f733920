import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Agent, buildTrainingMessages, type TagSyntax } from '@aipo/agents';
import { AipoError, choice, type Registry, TokenSource } from '@aipo/core';
import { CONSULTATION_PROMPT_PREFIX, createArithmeticAgents, createArithmeticTagSyntax } from '../tasks/arithmetic-agents';
import { loadDatasetProblemSets } from '../tasks/dataset-task';
import { createEndpointAgents } from '../tasks/endpoint-agents';
import type { RecipeProblem } from '../tasks/recipe-problem';
import { gradeArithmetic } from '../tasks/grade-arithmetic';
import { abortPoint } from './abort-point';
import { createCharGruPolicy } from './char-gru-policy';
import { type ConsultationTiming, REFUSED, sampleConsultationGroups } from './consultation-rollout';
import { evaluatePolicy, type PolicyEvaluation } from './evaluate-policy';
import { formatStepLine } from './format-step-line';
import { computeGroupAdvantages } from './group-advantages';
import { loadPeerState, prunePeerStates, savePeerState } from './ilr-peer/peer-checkpoint';
import { runIlrStep } from './ilr-step';
import { buildProblemSets, type ProblemSets } from './problem-sets';
import { loadRecipeCheckpoint, saveRecipeCheckpoint } from './recipe-checkpoint';
import { parseRecipeConfig, type RecipeConfig } from './recipe-config';
import type { PolicyState, RecipePolicy } from './recipe-policy';
import { referenceTrajectory, sampleOnPolicyGroups } from './sample-groups';
import { RNG_STREAM, stepRng } from './step-rng';
import { countTokensBySource, type Trajectory } from './trajectory';
import { updatePolicy, type UpdateStats } from './update-policy';

/** One line of `metrics.jsonl`: everything measured in one step. */
export interface StepMetrics extends Omit<UpdateStats, 'offPolicyProbabilityMean' | 'agentProbabilityMean' | 'klReference'> {
  /** 1-based step number */
  step: number;
  /** recipe id */
  recipe: RecipeConfig['recipe'];
  /** which policy (ILR trains two: "a" and "b") */
  policyId: string;
  /** mean outcome reward of the policy's own rollouts (off-policy traces excluded) */
  rewardMean: number;
  /** mean / std / mean |Â| over trained sequences */
  advantageMean: number;
  advantageStd: number;
  advantageAbsMean: number;
  /** mean π_θ of LUFFY's off-policy tokens (null when none) */
  offPolicyProbabilityMean: number | null;
  /** mean π_θ of AIPO's agent tokens (null when none) */
  agentProbabilityMean: number | null;
  /** mean KL estimate (`loss.klEstimator`) to the frozen reference on policy tokens (null when β = 0) */
  klReference: number | null;
  /** groups dropped by the zero-variance filter */
  droppedGroups: number;
  /** consultations this step, by agent; refused requests (over budget, malformed) under `refused` */
  consultations: Record<string, number>;
  /** consultations answered by an agent this step (refused requests excluded) */
  acceptedConsultations: number;
  /** rollouts that could consult this step (AIPO's group members; 0 for other recipes) */
  consultingRollouts: number;
  /** response tokens this step, by source */
  tokensBySource: { policy: number; offPolicy: number; agent: number };
  /** policy-sampled tokens since the start (the demo's budget counter) */
  sampledTokensTotal: number;
  /** ILR: share of problems in cooperative mode (null for other recipes) */
  cooperativeShare: number | null;
  /** ILR: share of Idea Analysis verdicts on the peer's solution that were right (null when none ran) */
  analysisAccuracy: number | null;
  /** wall time of the step, and the part spent inside agents */
  stepMs: number;
  agentMs: number;
}

/** Progress events for a terminal line or a progress bar. */
export type RecipeProgress =
  | { phase: 'train'; step: number; total: number; metrics: StepMetrics[]; line: string }
  | { phase: 'evaluate'; step: number; done: number; total: number; policyId: string }
  | { phase: 'evaluated'; step: number; policyId: string; evaluation: PolicyEvaluation; line: string }
  | { phase: 'checkpoint'; step: number; path: string };

export interface RunRecipeOptions {
  /** cancels between steps and sampling batches (throws ABORTED) */
  signal?: AbortSignal;
  /** progress for the CLI */
  onProgress?: (event: RecipeProgress) => void;
  /** where checkpoint.json and metrics.jsonl go; a checkpoint already there is resumed */
  outDir?: string;
  /** start from this policy state (e.g. the demo's warm-up checkpoint) instead of a fresh init */
  initialState?: PolicyState;
  /** ILR: the second policy's starting state */
  initialPeerState?: PolicyState;
  /** stop after this many steps in this call (for tests of resume); the run stays resumable */
  stopAfterSteps?: number;
  /** train this policy instead of a fresh character GRU (e.g. `createCausalLmRecipePolicy` over a HF checkpoint) */
  policy?: RecipePolicy;
  /**
   * ILR: the second policy (default: a fresh GRU of `ilr.peerHiddenSize`), e.g. a second
   * `createCausalLmRecipePolicy`. A peer passed here checkpoints into `<outDir>/peer/` (see
   * `savePeerState`); the default GRU peer stays inside `checkpoint.json`.
   */
  peer?: RecipePolicy;
  /**
   * KL reference policies, one per trained policy (ILR: two), used when `loss.klCoefficient` > 0.
   * Default: clones of the starting policies (a CausalLM cannot clone itself: pass a second copy).
   */
  references?: RecipePolicy[];
  /** consult these agents instead of the config's (`agents` endpoint) or the arithmetic ones */
  agents?: Registry<Agent>;
}

/** What a run returns. */
export interface RecipeResult {
  /** the validated config */
  config: RecipeConfig;
  /** the trained policy (ILR: the first one) */
  policy: RecipePolicy;
  /** ILR's second policy */
  peer?: RecipePolicy;
  /** metrics of the steps run in this call */
  metrics: StepMetrics[];
  /** evaluations in this call, by step and policy */
  evaluations: Array<{ step: number; policyId: string; evaluation: PolicyEvaluation }>;
  /** steps completed in total */
  stepsCompleted: number;
  /** policy-sampled tokens in total */
  sampledTokens: number;
  /** held-out problems used for evaluation */
  evaluationProblems: RecipeProblem[];
}

/** The task of a config: a dataset file when `task.dataset` is set, the embedded arithmetic task otherwise. */
export async function loadRecipeProblemSets(config: RecipeConfig): Promise<ProblemSets> {
  const { dataset, ...arithmetic } = config.task;
  if (dataset === null) return buildProblemSets({ seed: config.seed, ...arithmetic });
  const sets = await loadDatasetProblemSets({ ...dataset, seed: config.seed });
  if (config.recipe === 'luffy' && [...sets.train.values()].some((problems) => problems.some((problem) => problem.solution === ''))) {
    throw new AipoError({ code: 'INVALID_DATASET', message: `${dataset.path}: LUFFY needs a reference "solution" on every training record` });
  }
  return sets;
}

/**
 * The AIPO training prompt (interaction on). The embedded task keeps its one-word prefix (a
 * character model cannot read a system prompt); a dataset task gets the agents package's
 * training prompt (the prototype's "ask in tags, wait for the result, box the answer"), as text.
 */
function consultationPrompt(options: { config: RecipeConfig; agents: Registry<Agent>; syntax: TagSyntax }): (problem: RecipeProblem) => string {
  const { config, agents, syntax } = options;
  if (config.task.dataset === null) return (problem) => `${CONSULTATION_PROMPT_PREFIX}${problem.prompt}`;
  const described = agents.list().map((name) => ({ name, description: agents.get(name).description }));
  return (problem) =>
    `${buildTrainingMessages({ question: problem.expression, agents: described, syntax, maxConsultations: config.aipo.maxConsultations })
      .map((message) => message.content)
      .join('\n\n')
      // '…' in the syntax line is outside a byte/char vocabulary like the demo model's
      .replace(/…/g, '...')}\n`;
}

/**
 * Run a recipe: GRPO / Dr.GRPO / DAPO settings (`grpo`), LUFFY mixed groups (`luffy`), AIPO
 * consultations (`aipo`) or ILR co-training (`ilr`) on the embedded arithmetic task. Every step
 * samples groups, grades them with the math grader, computes group advantages (core) and takes
 * `loss.updatesPerBatch` weighted steps. Evaluation is held-out pass@k of each policy alone.
 * Deterministic under `config.seed`; with `outDir`, checkpoints allow exact resume.
 */
export async function runRecipe(configInput: unknown, options: RunRecipeOptions = {}): Promise<RecipeResult> {
  const config = parseRecipeConfig(configInput);
  const { signal, onProgress, outDir } = options;
  const sets = await loadRecipeProblemSets(config);
  const policy = options.policy ?? (await createCharGruPolicy({ ...config.model, seed: config.seed }));
  const peer =
    config.recipe !== 'ilr'
      ? undefined
      : (options.peer ?? (await createCharGruPolicy({ embeddingSize: config.model.embeddingSize, hiddenSize: config.ilr.peerHiddenSize, seed: config.seed + 1 })));
  if (options.initialState) await policy.loadState(options.initialState);
  if (peer && options.initialPeerState) await peer.loadState(options.initialPeerState);
  // an external peer (a real checkpoint) keeps its state in its own subfolder, not in checkpoint.json
  const peerInSubfolder = peer !== undefined && options.peer !== undefined;
  // the KL reference is the starting point, frozen (never stepped)
  const trained = peer ? [policy, peer] : [policy];
  const clonedReferences = config.loss.klCoefficient > 0 && options.references === undefined;
  const references = config.loss.klCoefficient > 0 ? (options.references ?? (await Promise.all(trained.map((entry) => entry.clone())))) : [];
  if (references.length > 0 && references.length !== trained.length) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `got ${references.length} reference policies for ${trained.length} trained policies` });
  }

  let step = 0;
  let sampledTokens = 0;
  const checkpoint = outDir === undefined ? undefined : await loadRecipeCheckpoint(outDir);
  if (checkpoint !== undefined && outDir !== undefined) {
    if (JSON.stringify(checkpoint.config) !== JSON.stringify(config)) {
      throw new AipoError({ code: 'CORRUPT_STATE', message: `the checkpoint in ${outDir} was written by a different config; use a fresh outDir` });
    }
    await policy.loadState(checkpoint.policy);
    if (peer && checkpoint.peer) await peer.loadState(checkpoint.peer);
    else if (peer && peerInSubfolder) await peer.loadState(await loadPeerState({ outDir, step: checkpoint.step }));
    else if (peer) {
      throw new AipoError({ code: 'CORRUPT_STATE', message: `the checkpoint in ${outDir} has its ILR peer in ${outDir}/peer; resume with the same peer (aipo train --peer-model)` });
    }
    if (clonedReferences) {
      for (const [index, reference] of references.entries()) {
        const state = checkpoint.references?.[index];
        if (state === undefined) throw new AipoError({ code: 'CORRUPT_STATE', message: `the checkpoint in ${outDir} lacks the KL reference policy` });
        await reference.loadState(state);
      }
    }
    step = checkpoint.step;
    sampledTokens = checkpoint.sampledTokens;
    await truncateMetrics(outDir, step);
  } else if (outDir !== undefined) {
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, 'metrics.jsonl'), '');
  }

  const agents = options.agents ?? (config.agents === null ? createArithmeticAgents() : createEndpointAgents(config.agents));
  const syntax = createArithmeticTagSyntax();
  const trainingPrompt = consultationPrompt({ config, agents, syntax });
  const trainDifficulties = [...sets.train.keys()];
  const metrics: StepMetrics[] = [];
  const evaluations: RecipeResult['evaluations'] = [];
  const policies = peer ? [{ id: 'a', policy }, { id: 'b', policy: peer }] : [{ id: 'a', policy }];

  const evaluate = async (atStep: number) => {
    for (const { id, policy: evaluated } of policies) {
      const evaluation = await evaluatePolicy({
        policy: evaluated,
        problems: sets.evaluation,
        samples: config.evaluation.samples,
        k: config.evaluation.k,
        temperature: config.evaluation.temperature,
        maxTokens: config.maxResponseTokens,
        rng: stepRng({ seed: config.seed, stream: RNG_STREAM.evaluation, step: atStep }),
        ...(signal ? { signal } : {}),
        onProgress: (done, total) => onProgress?.({ phase: 'evaluate', step: atStep, done, total, policyId: id }),
      });
      evaluations.push({ step: atStep, policyId: id, evaluation });
      onProgress?.({ phase: 'evaluated', step: atStep, policyId: id, evaluation, line: formatEvaluationLine(atStep, id, evaluation) });
    }
  };
  const budgetLeft = () => config.sampledTokenBudget === 0 || sampledTokens < config.sampledTokenBudget;

  let ranThisCall = 0;
  while (step < config.steps && budgetLeft() && (options.stopAfterSteps === undefined || ranThisCall < options.stopAfterSteps)) {
    await abortPoint(signal);
    const started = performance.now();
    const promptRng = stepRng({ seed: config.seed, stream: RNG_STREAM.prompts, step });
    const rolloutRng = stepRng({ seed: config.seed, stream: RNG_STREAM.rollouts, step });
    const updateRng = stepRng({ seed: config.seed, stream: RNG_STREAM.minibatches, step });
    const problems = Array.from({ length: config.promptsPerStep }, () => choice(promptRng, sets.train.get(choice(promptRng, trainDifficulties)) ?? []));
    const timing: ConsultationTiming = { agentMs: 0 };
    let stepMetrics: StepMetrics[];
    if (config.recipe === 'ilr' && peer) {
      const results = await runIlrStep({
        policies: [policy, peer],
        problems,
        config,
        rng: rolloutRng,
        updateRng,
        ...(references.length === 2 ? { references: references as [RecipePolicy, RecipePolicy] } : {}),
        ...(signal ? { signal } : {}),
      });
      stepMetrics = results.map((result, index) => ({
        ...summarise({ config, step: step + 1, policyId: index === 0 ? 'a' : 'b', trajectories: result.trajectories, advantages: result.advantages, update: result.update, dropped: 0 }),
        cooperativeShare: result.cooperativeShare,
        analysisAccuracy: result.analysisAccuracy,
        sampledTokensTotal: 0,
        stepMs: 0,
        agentMs: 0,
      }));
    } else {
      const trajectories = await collectTrajectories({ config, policy, problems, rng: rolloutRng, agents, syntax, trainingPrompt, timing, ...(signal ? { signal } : {}) });
      for (const trajectory of trajectories) {
        trajectory.reward = await gradeArithmetic({ problem: trajectory.problem, output: trajectory.text });
      }
      const { advantages, zeroVariance } = computeGroupAdvantages({ trajectories, normalizeByStd: config.advantage.normalizeByStd });
      const keep = trajectories.map((_, index) => !(config.dropZeroVarianceGroups && zeroVariance[index]));
      const kept = trajectories.filter((_, index) => keep[index]);
      const keptAdvantages = advantages.filter((_, index) => keep[index]);
      const update = await updatePolicy({ policy, trajectories: kept, advantages: keptAdvantages, config, rng: updateRng, ...(references[0] ? { reference: references[0] } : {}) });
      const dropped = new Set(trajectories.filter((_, index) => !keep[index]).map((trajectory) => trajectory.group)).size;
      stepMetrics = [{ ...summarise({ config, step: step + 1, policyId: 'a', trajectories, advantages: keptAdvantages, update, dropped }), cooperativeShare: null, analysisAccuracy: null, sampledTokensTotal: 0, stepMs: 0, agentMs: 0 }];
    }
    step += 1;
    ranThisCall += 1;
    for (const entry of stepMetrics) {
      sampledTokens += entry.tokensBySource.policy;
    }
    for (const entry of stepMetrics) {
      entry.sampledTokensTotal = sampledTokens;
      entry.stepMs = performance.now() - started;
      entry.agentMs = timing.agentMs;
      metrics.push(entry);
      if (outDir !== undefined) await appendFile(join(outDir, 'metrics.jsonl'), `${JSON.stringify(entry)}\n`);
    }
    onProgress?.({ phase: 'train', step, total: config.steps, metrics: stepMetrics, line: stepMetrics.map(formatStepLine).join('\n') });
    const last = step >= config.steps || !budgetLeft();
    if (config.evaluation.every > 0 && (step % config.evaluation.every === 0 || last)) await evaluate(step);
    else if (config.evaluation.every === 0 && last) await evaluate(step);
    if (outDir !== undefined && ((config.checkpointEvery > 0 && step % config.checkpointEvery === 0) || last || ranThisCall === options.stopAfterSteps)) {
      // the peer's file first: checkpoint.json only ever names a step whose peer state exists
      if (peer && peerInSubfolder) await savePeerState({ outDir, step, state: await peer.saveState() });
      await saveRecipeCheckpoint(outDir, {
        version: 1,
        config,
        step,
        sampledTokens,
        policy: await policy.saveState(),
        ...(peer && !peerInSubfolder ? { peer: await peer.saveState() } : {}),
        ...(clonedReferences ? { references: await Promise.all(references.map((reference) => reference.saveState())) } : {}),
      });
      if (peerInSubfolder) await prunePeerStates({ outDir, step });
      onProgress?.({ phase: 'checkpoint', step, path: outDir });
    }
  }
  if (clonedReferences) for (const reference of references) reference.dispose();
  return { config, policy, ...(peer ? { peer } : {}), metrics, evaluations, stepsCompleted: step, sampledTokens, evaluationProblems: sets.evaluation };
}

async function collectTrajectories(options: {
  config: RecipeConfig;
  policy: RecipePolicy;
  problems: RecipeProblem[];
  rng: ReturnType<typeof stepRng>;
  agents: Registry<Agent>;
  syntax: TagSyntax;
  trainingPrompt: (problem: RecipeProblem) => string;
  timing: ConsultationTiming;
  signal?: AbortSignal;
}): Promise<Trajectory[]> {
  const { config, policy, problems, rng, agents, syntax, trainingPrompt, timing, signal } = options;
  const sampling = { policy, problems, maxTokens: config.maxResponseTokens, temperature: config.temperature, rng };
  switch (config.recipe) {
    case 'luffy': {
      const onPolicy = await sampleOnPolicyGroups({ ...sampling, rolloutsPerGroup: config.groupSize - config.luffy.offPolicyPerGroup });
      const offPolicy = problems.flatMap((problem, group) =>
        Array.from({ length: config.luffy.offPolicyPerGroup }, () => referenceTrajectory({ policy, problem, group })),
      );
      return [...onPolicy, ...offPolicy];
    }
    case 'aipo':
      return sampleConsultationGroups(
        {
          ...sampling,
          rolloutsPerGroup: config.groupSize,
          trainingPrompt,
          agents,
          syntax,
          maxConsultations: config.aipo.maxConsultations,
          ...(signal ? { signal } : {}),
        },
        timing,
      );
    default:
      return sampleOnPolicyGroups({ ...sampling, rolloutsPerGroup: config.groupSize });
  }
}

function summarise(options: {
  config: RecipeConfig;
  step: number;
  policyId: string;
  trajectories: Trajectory[];
  advantages: number[];
  update: UpdateStats;
  dropped: number;
}): Omit<StepMetrics, 'cooperativeShare' | 'analysisAccuracy' | 'sampledTokensTotal' | 'stepMs' | 'agentMs'> {
  const { config, step, policyId, trajectories, advantages, update, dropped } = options;
  // the policy's own answers: not LUFFY's reference traces, not ILR's analysis turns
  const own = trajectories.filter((trajectory) => trajectory.stage !== 'analysis' && trajectory.sources.every((source) => source !== TokenSource.offPolicy));
  const mean = (values: number[]) => (values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : 0);
  const advantageMean = mean(advantages);
  const consultations: Record<string, number> = {};
  for (const trajectory of trajectories) {
    for (const [agent, count] of Object.entries(trajectory.consultations)) consultations[agent] = (consultations[agent] ?? 0) + count;
  }
  const acceptedConsultations = Object.entries(consultations).reduce((sum, [agent, count]) => (agent === REFUSED ? sum : sum + count), 0);
  const finite = (value: number) => (Number.isFinite(value) ? value : null);
  return {
    ...update,
    offPolicyProbabilityMean: finite(update.offPolicyProbabilityMean),
    agentProbabilityMean: finite(update.agentProbabilityMean),
    klReference: finite(update.klReference),
    step,
    recipe: config.recipe,
    policyId,
    rewardMean: mean(own.map((trajectory) => trajectory.reward)),
    advantageMean,
    advantageStd: Math.sqrt(mean(advantages.map((value) => (value - advantageMean) ** 2))),
    advantageAbsMean: mean(advantages.map(Math.abs)),
    droppedGroups: dropped,
    consultations,
    acceptedConsultations,
    consultingRollouts: config.recipe === 'aipo' ? trajectories.length : 0,
    tokensBySource: countTokensBySource(trajectories),
  };
}

function formatEvaluationLine(step: number, policyId: string, evaluation: PolicyEvaluation): string {
  const parts = evaluation.difficulties.map(
    (entry) => `d${entry.difficulty} ${Object.entries(entry.passAtK).map(([k, value]) => `p@${k}=${value.toFixed(2)}`).join(' ')}`,
  );
  return `eval step ${step} [${policyId}] ${parts.join(' | ')}`;
}

/** On resume, drop metric lines written after the checkpoint (they will be written again identically). */
async function truncateMetrics(outDir: string, step: number): Promise<void> {
  const path = join(outDir, 'metrics.jsonl');
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch {
    // a checkpoint without metrics (deleted by the user) is fine: start a new file
  }
  const kept = text.split('\n').filter((line) => line.trim() !== '' && (JSON.parse(line) as { step: number }).step <= step);
  await writeFile(path, kept.map((line) => `${line}\n`).join(''));
}
