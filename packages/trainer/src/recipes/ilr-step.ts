import { abilityFromAccuracy, difficultyFromPercentile } from '@aipo/agents';
import { calibrateRewards, irtProbability, type Rng } from '@aipo/core';
import { type ArithmeticProblem, MAX_DIFFICULTY } from '../tasks/arithmetic-task';
import { gradeArithmetic } from '../tasks/grade-arithmetic';
import { computeGroupAdvantages } from './group-advantages';
import type { RecipeConfig } from './recipe-config';
import type { RecipePolicy } from './recipe-policy';
import { sampleOnPolicyGroups } from './sample-groups';
import type { Trajectory } from './trajectory';
import { updatePolicy, type UpdateStats } from './update-policy';

/** One policy's share of an ILR step. */
export interface IlrPolicyStep {
  /** its rollouts (sharing + fusion or competition), rewards calibrated */
  trajectories: Trajectory[];
  /** GRPO advantages on the calibrated rewards */
  advantages: number[];
  /** what its update measured */
  update: UpdateStats;
  /** share of this step's problems it solved in cooperative mode */
  cooperativeShare: number;
}

/** Prefix of a fusion prompt: the peer's shared solution, one line, before the plain prompt. */
export const PEER_PROMPT_PREFIX = 'peer:';

/**
 * One ILR step (arXiv 2509.26306, algorithms.md §2) for two co-trained policies on the embedded task:
 * 1. Idea Sharing: each policy answers every problem independently (half of its group).
 * 2. Dynamic Interaction: per policy and problem, P = σ(1.7(γ_i − D_q)); P < 0.5 → cooperate.
 *    γ_i is the logit of the policy's accuracy on this step's sharing answers (the paper estimates
 *    it once on a 1k validation set; a per-step estimate tracks a tiny model that changes fast),
 *    D_q the logit of the problem's difficulty percentile (a synthetic task knows its difficulty,
 *    so self-ranking is not needed). `ilr.cooperationProbability` replaces the rule (ablation).
 * 3. Cooperative: Idea Fusion: the other half of the group answers with the peer's shared solution
 *    (a correct one when there is one) in context. Competitive: the other half answers alone.
 *    Idea Analysis (a written critique) is not modelled: a character model cannot write one.
 * 4. Perception Calibration, Eq. (5): R̄ = R + clip((R − R̄_peer)/(R_peer,max − R_peer,min), ±1).
 * 5. GRPO on each policy's own rollouts with the calibrated rewards.
 */
export async function runIlrStep(options: {
  policies: [RecipePolicy, RecipePolicy];
  problems: readonly ArithmeticProblem[];
  config: RecipeConfig;
  rng: Rng;
  updateRng: Rng;
  signal?: AbortSignal;
}): Promise<[IlrPolicyStep, IlrPolicyStep]> {
  const { policies, problems, config, rng, updateRng, signal } = options;
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
    // one batched call for every problem: fusion prompts carry the peer's shared solution
    const prompted = problems.map((problem, group) => {
      if (!cooperative[group]) return problem;
      const candidates = peerShared.filter((trajectory) => trajectory.group === group);
      const shared = candidates.find((trajectory) => trajectory.reward > 0) ?? candidates[0];
      return { ...problem, prompt: `${PEER_PROMPT_PREFIX}${(shared?.text ?? '').replace(/\n/g, ';')}\n${problem.prompt}` };
    });
    const second = await sampleOnPolicyGroups({ ...sampling, policy, problems: prompted, rolloutsPerGroup: config.groupSize - half });
    for (const trajectory of second) {
      trajectory.problem = problems[trajectory.group] as ArithmeticProblem;
      trajectory.reward = await gradeArithmetic({ problem: trajectory.problem, output: trajectory.text });
    }
    const trajectories = [...own, ...second];
    if (config.ilr.perceptionCalibration) {
      const calibrated = calibrateRewards({
        rewards: Float32Array.from(trajectories, (trajectory) => trajectory.reward),
        groupIds: Int32Array.from(trajectories, (trajectory) => trajectory.group),
        peers: [
          { rewards: Float32Array.from(peerShared, (trajectory) => trajectory.reward), groupIds: Int32Array.from(peerShared, (trajectory) => trajectory.group) },
        ],
      });
      trajectories.forEach((trajectory, index) => {
        trajectory.reward = calibrated[index] ?? trajectory.reward;
      });
    }
    const { advantages } = computeGroupAdvantages({ trajectories, normalizeByStd: config.advantage.normalizeByStd });
    const update = await updatePolicy({ policy, trajectories, advantages, config, rng: updateRng });
    // report the raw outcome reward, not the calibrated one
    for (const trajectory of trajectories) trajectory.reward = await gradeArithmetic({ problem: trajectory.problem, output: trajectory.text });
    results.push({ trajectories, advantages, update, cooperativeShare: cooperative.filter(Boolean).length / Math.max(1, problems.length) });
  }
  return results as [IlrPolicyStep, IlrPolicyStep];
}
