import type { TokenSourceId } from '@aipo/core';
import type { RecipeProblem } from '../tasks/recipe-problem';

/** One rollout (or one off-policy trace) of a group, token by token. */
export interface Trajectory {
  /** the problem it answers */
  problem: RecipeProblem;
  /** index of its group in the step (groups share a prompt) */
  group: number;
  /** context tokens (not trained) */
  prompt: number[];
  /** response tokens: policy-sampled, agent-inserted or off-policy */
  response: number[];
  /** TokenSource per response token */
  sources: TokenSourceId[];
  /** log π_old per response token; NaN where the policy did not sample the token */
  oldLogProbs: number[];
  /** decoded response */
  text: string;
  /** outcome reward (1 correct, 0 otherwise), set after grading */
  reward: number;
  /** why generation ended */
  finishReason: 'stop' | 'length';
  /** consultations by agent name (AIPO rollouts) */
  consultations: Record<string, number>;
  /** ILR's Idea Analysis turns: reward = whether the verdict on the peer's solution was right */
  stage?: 'analysis';
}

/** Count response tokens by source. */
export function countTokensBySource(trajectories: readonly Trajectory[]): { policy: number; offPolicy: number; agent: number } {
  const counts = { policy: 0, offPolicy: 0, agent: 0 };
  for (const trajectory of trajectories) {
    for (const source of trajectory.sources) {
      if (source === 0) counts.policy += 1;
      else if (source === 1) counts.offPolicy += 1;
      else counts.agent += 1;
    }
  }
  return counts;
}
