import { abilityFromAccuracy, difficultyFromPercentile } from '@aipo/agents';
import { calibrateRewards, irtProbability, type Rng } from '@aipo/core';
import { MAX_DIFFICULTY } from '../tasks/arithmetic-task';
import type { RecipeProblem } from '../tasks/recipe-problem';
import { gradeArithmetic } from '../tasks/grade-arithmetic';
import { computeGroupAdvantages } from './group-advantages';
import type { RecipeConfig } from './recipe-config';
import type { RecipePolicy } from './recipe-policy';
import { sampleOnPolicyGroups } from './sample-groups';
import type { Trajectory } from './trajectory';
import { updatePolicy, type UpdateStats } from './update-policy';

/** One policy's share of an ILR step. */
export interface IlrPolicyStep {
  /** its rollouts (sharing + fusion or competition, and Idea Analysis turns), rewards calibrated */
  trajectories: Trajectory[];
  /** GRPO advantages on the calibrated rewards */
  advantages: number[];
  /** what its update measured */
  update: UpdateStats;
  /** share of this step's problems it solved in cooperative mode */
  cooperativeShare: number;
  /** share of its analyses whose verdict on the peer's solution was right (null when none ran) */
  analysisAccuracy: number | null;
}

/** Prefix of a fusion prompt: the peer's shared solution, one line, before the plain prompt. */
export const PEER_PROMPT_PREFIX = 'peer:';
/** Prefix of an Idea Analysis prompt: the peer's shared solution to critique. */
export const ANALYSIS_PROMPT_PREFIX = 'check:';
/** Prefix of the policy's own analysis inside a fusion prompt. */
export const ANALYSIS_NOTE_PREFIX = 'note:';

/** One line of context: newlines would end the prompt line a character model reads. */
const oneLine = (text: string) => text.replace(/\n/g, ';');

/**
 * One ILR step (arXiv 2509.26306, algorithms.md §2) for two co-trained policies on the embedded task:
 * 1. Idea Sharing: each policy answers every problem independently (half of its group).
 * 2. Dynamic Interaction: per policy and problem, P = σ(1.7(γ_i − D_q)); P < 0.5 → cooperate.
 *    γ_i is the logit of the policy's accuracy on this step's sharing answers (the paper estimates
 *    it once on a 1k validation set; a per-step estimate tracks a tiny model that changes fast),
 *    D_q the logit of the problem's difficulty percentile (a synthetic task knows its difficulty,
 *    so self-ranking is not needed). `ilr.cooperationProbability` replaces the rule (ablation).
 * 3. Cooperative problems run the rest of Idea3 (§2.3):
 *    - Idea Analysis: the policy critically analyses the peer's shared solution (a correct one when
 *      there is one): prompt `check:<peer solution>`, and the analysis ends with a verdict
 *      `\boxed{1}` (the peer is right) or `\boxed{0}` (wrong). The verdict is graded by the math
 *      grader against the peer's actual correctness, so the critique is a verifiable, trainable turn
 *      (the paper's prompts and whether analysis turns are trained are not public: `ilr.trainAnalysis`).
 *    - Idea Fusion: the other half of the group answers with the peer's solution and the policy's
 *      own (first) analysis in context.
 *    Competitive problems: the other half answers alone (the policies compete through step 4).
 * 4. Perception Calibration, Eq. (5): R̄ = R + clip((R − R̄_peer)/(R_peer,max − R_peer,min), ±1),
 *    on answer rollouts (analysis verdicts are not answers to the problem).
 * 5. GRPO on each policy's own rollouts with the calibrated rewards; analysis turns form groups of
 *    their own (`ilr.analysesPerProblem` per problem).
 */
export async function runIlrStep(options: {
  policies: [RecipePolicy, RecipePolicy];
  problems: readonly RecipeProblem[];
  config: RecipeConfig;
  rng: Rng;
  updateRng: Rng;
  /** frozen KL reference of each policy (when `loss.klCoefficient` > 0) */
  references?: [Pick<RecipePolicy, 'score'>, Pick<RecipePolicy, 'score'>];
  signal?: AbortSignal;
}): Promise<[IlrPolicyStep, IlrPolicyStep]> {
  const { policies, problems, config, rng, updateRng, references, signal } = options;
  const half = Math.max(1, Math.floor(config.groupSize / 2));
  const sampling = { problems, maxTokens: config.maxResponseTokens, temperature: config.temperature, rng, rolloutsPerGroup: half };
  const sharing: Trajectory[][] = [];
  for (const policy of policies) {
    signal?.throwIfAborted();
    const trajectories = await sampleOnPolicyGroups({ ...sampling, policy });
    for (const trajectory of trajectories) trajectory.reward = await gradeArithmetic({ problem: trajectory.problem, output: trajectory.text });
    sharing.push(trajectories);
  }
  const results: IlrPolicyStep[] = [];
  for (const [index, policy] of policies.entries()) {
    signal?.throwIfAborted();
    const own = sharing[index] as Trajectory[];
    const peerShared = sharing[1 - index] as Trajectory[];
    const accuracy = own.reduce((sum, trajectory) => sum + trajectory.reward, 0) / Math.max(1, own.length);
    const ability = abilityFromAccuracy(accuracy);
    const cooperative = problems.map((problem) => {
      const probability = config.ilr.cooperationProbability;
      if (probability !== null) return rng.next() < probability;
      const difficulty = difficultyFromPercentile((problem.difficulty - 0.5) / MAX_DIFFICULTY);
      return irtProbability({ ability, difficulty, scale: config.ilr.irtScale }) < 0.5;
    });
    const shared = problems.map((_, group) => {
      const candidates = peerShared.filter((trajectory) => trajectory.group === group);
      return candidates.find((trajectory) => trajectory.reward > 0) ?? candidates[0];
    });
    const analyses = config.ilr.ideaAnalysis ? await analyse({ policy, problems, cooperative, shared, config, rng }) : [];
    // one batched call for every problem: fusion prompts carry the peer's solution and the analysis
    const prompted = problems.map((problem, group) => {
      if (!cooperative[group]) return problem;
      const note = analyses.find((analysis) => analysis.group === problems.length + group);
      const noteLine = note ? `${ANALYSIS_NOTE_PREFIX}${oneLine(note.text)}\n` : '';
      return { ...problem, prompt: `${PEER_PROMPT_PREFIX}${oneLine(shared[group]?.text ?? '')}\n${noteLine}${problem.prompt}` };
    });
    const second = await sampleOnPolicyGroups({ ...sampling, policy, problems: prompted, rolloutsPerGroup: config.groupSize - half });
    for (const trajectory of second) {
      trajectory.problem = problems[trajectory.group] as RecipeProblem;
      trajectory.reward = await gradeArithmetic({ problem: trajectory.problem, output: trajectory.text });
    }
    const answers = [...own, ...second];
    if (config.ilr.perceptionCalibration) {
      const calibrated = calibrateRewards({
        rewards: Float32Array.from(answers, (trajectory) => trajectory.reward),
        groupIds: Int32Array.from(answers, (trajectory) => trajectory.group),
        peers: [
          { rewards: Float32Array.from(peerShared, (trajectory) => trajectory.reward), groupIds: Int32Array.from(peerShared, (trajectory) => trajectory.group) },
        ],
      });
      answers.forEach((trajectory, index) => {
        trajectory.reward = calibrated[index] ?? trajectory.reward;
      });
    }
    const trajectories = config.ilr.trainAnalysis ? [...answers, ...analyses] : answers;
    const { advantages } = computeGroupAdvantages({ trajectories, normalizeByStd: config.advantage.normalizeByStd });
    const reference = references?.[index];
    const update = await updatePolicy({ policy, trajectories, advantages, config, rng: updateRng, ...(reference ? { reference } : {}) });
    // report the raw outcome reward, not the calibrated one
    for (const trajectory of answers) trajectory.reward = await gradeArithmetic({ problem: trajectory.problem, output: trajectory.text });
    results.push({
      trajectories: [...answers, ...analyses],
      advantages,
      update,
      cooperativeShare: cooperative.filter(Boolean).length / Math.max(1, problems.length),
      analysisAccuracy: analyses.length > 0 ? analyses.reduce((sum, analysis) => sum + analysis.reward, 0) / analyses.length : null,
    });
  }
  return results as [IlrPolicyStep, IlrPolicyStep];
}

/**
 * Idea Analysis for the cooperative problems: `ilr.analysesPerProblem` critiques of the peer's
 * shared solution each, graded on the verdict (1 = the peer's answer is right). Analysis groups are
 * numbered after the answer groups (problems.length + problem index) so GRPO normalises them apart.
 */
async function analyse(options: {
  policy: RecipePolicy;
  problems: readonly RecipeProblem[];
  cooperative: boolean[];
  shared: Array<Trajectory | undefined>;
  config: RecipeConfig;
  rng: Rng;
}): Promise<Trajectory[]> {
  const { policy, problems, cooperative, shared, config, rng } = options;
  const targets = problems.flatMap((problem, group) => {
    const peer = shared[group];
    if (!cooperative[group] || peer === undefined) return [];
    // the verdict is graded like an answer: the gold "answer" of an analysis is the peer's correctness
    const verdict = peer.reward > 0 ? '1' : '0';
    return [{ group, problem: { ...problem, id: `${problem.id}#analysis`, answer: verdict, prompt: `${ANALYSIS_PROMPT_PREFIX}${oneLine(peer.text)}\n${problem.prompt}` } }];
  });
  if (targets.length === 0) return [];
  const analyses = await sampleOnPolicyGroups({
    policy,
    problems: targets.map((target) => target.problem),
    rolloutsPerGroup: config.ilr.analysesPerProblem,
    maxTokens: config.maxResponseTokens,
    temperature: config.temperature,
    rng,
  });
  for (const analysis of analyses) {
    const target = targets[analysis.group] as (typeof targets)[number];
    analysis.group = problems.length + target.group;
    analysis.stage = 'analysis';
    analysis.reward = await gradeArithmetic({ problem: analysis.problem, output: analysis.text });
  }
  return analyses;
}
