import { TokenSource, type Rng } from '@aipo/core';
import type { RecipeProblem } from '../tasks/recipe-problem';
import type { RecipePolicy } from './recipe-policy';
import type { Trajectory } from './trajectory';

export interface SampleGroupsOptions {
  /** the policy that samples (π_old) */
  policy: RecipePolicy;
  /** one group per problem */
  problems: readonly RecipeProblem[];
  /** policy rollouts per group */
  rolloutsPerGroup: number;
  /** cap on sampled tokens per rollout */
  maxTokens: number;
  /** rollout temperature */
  temperature: number;
  /** the step's randomness */
  rng: Rng;
  /** first group index (groups of one step are numbered consecutively) */
  firstGroup?: number;
}

/** On-policy groups: G samples of the evaluation prompt per problem (GRPO). */
export async function sampleOnPolicyGroups(options: SampleGroupsOptions): Promise<Trajectory[]> {
  const { policy, problems, rolloutsPerGroup, maxTokens, temperature, rng, firstGroup = 0 } = options;
  const slots = problems.flatMap((problem, index) => Array.from({ length: rolloutsPerGroup }, () => ({ problem, group: firstGroup + index })));
  const contexts = slots.map(({ problem }) => policy.encode(problem.prompt));
  const samples = await policy.sample({ contexts, maxTokens, temperature, rng });
  return slots.map(({ problem, group }, index) => {
    const sample = samples[index] as (typeof samples)[number];
    return {
      problem,
      group,
      prompt: contexts[index] as number[],
      response: sample.tokenIds,
      sources: sample.tokenIds.map(() => TokenSource.policy),
      oldLogProbs: sample.logProbs,
      text: sample.text,
      reward: 0,
      finishReason: sample.finishReason,
      consultations: {},
    };
  });
}

/**
 * LUFFY's off-policy member (arXiv 2504.14945, mix_vllm_rollout.py with prefix ratio 1.0): the
 * whole reference solution plus the end token, marked TokenSource.offPolicy, joins the group.
 */
export function referenceTrajectory(options: { policy: RecipePolicy; problem: RecipeProblem; group: number }): Trajectory {
  const { policy, problem, group } = options;
  const response = [...policy.encode(problem.solution), policy.endTokenId];
  return {
    problem,
    group,
    prompt: policy.encode(problem.prompt),
    response,
    sources: response.map(() => TokenSource.offPolicy),
    oldLogProbs: response.map(() => Number.NaN),
    text: problem.solution,
    reward: 0,
    finishReason: 'stop',
    consultations: {},
  };
}
