import type { Agent, TagSyntax } from '@aipo/agents';
import { choice, type Registry } from '@aipo/core';
import type { ArithmeticProblem } from '../tasks/arithmetic-task';
import { buildConsultationTrace } from '../tasks/consultation-trace';
import { abortPoint } from './abort-point';
import type { RecipePolicy, TokenSequence } from './recipe-policy';
import { RNG_STREAM, stepRng } from './step-rng';

export interface SupervisedWarmupOptions {
  /** the policy to warm up (trained in place) */
  policy: RecipePolicy;
  /** warm-up problems (the demo uses easy ones) */
  problems: readonly ArithmeticProblem[];
  /** optimizer steps */
  steps: number;
  /** sequences per step */
  batchSize: number;
  /** Adam learning rate */
  learningRate: number;
  /** seed of the batch draws */
  seed: number;
  /** share of examples written with consultations (needs `consultation`) */
  consultationShare?: number;
  /** agents, syntax and prompt used for consultation examples */
  consultation?: { agents: Registry<Agent>; syntax: TagSyntax; trainingPrompt: (problem: ArithmeticProblem) => string; maxConsultations: number };
  /** cancels between steps */
  signal?: AbortSignal;
  /** called after each step */
  onStep?: (step: number, loss: number) => void;
}

/**
 * Supervised warm-up on reference solutions (plain NLL through the same weighted step: w = −1/N on
 * every solution token), the "SFT" before RL that gives every method the same starting checkpoint.
 * Returns the mean NLL per token of each step.
 */
export async function runSupervisedWarmup(options: SupervisedWarmupOptions): Promise<number[]> {
  const { policy, problems, steps, batchSize, learningRate, seed, consultationShare = 0, consultation, signal, onStep } = options;
  const losses: number[] = [];
  for (let step = 0; step < steps; step += 1) {
    await abortPoint(signal);
    const rng = stepRng({ seed, stream: RNG_STREAM.warmup, step });
    const sequences: TokenSequence[] = [];
    for (let row = 0; row < batchSize; row += 1) {
      const problem = choice(rng, problems);
      if (consultation !== undefined && rng.next() < consultationShare) {
        const text = await buildConsultationTrace({
          problem,
          agents: consultation.agents,
          syntax: consultation.syntax,
          // about one consultation per trace: enough to teach the tags, short enough to train fast
          consultProbability: 1 / Math.max(1, problem.steps.length),
          maxConsultations: consultation.maxConsultations,
          random: () => rng.next(),
        });
        sequences.push({ prompt: policy.encode(consultation.trainingPrompt(problem)), response: [...policy.encode(text), policy.endTokenId] });
      } else {
        sequences.push({ prompt: policy.encode(problem.prompt), response: [...policy.encode(problem.solution), policy.endTokenId] });
      }
    }
    const tokens = sequences.reduce((sum, sequence) => sum + sequence.response.length, 0);
    const { surrogate: loss } = await policy.trainStep({ sequences, weights: sequences.map((sequence) => new Float32Array(sequence.response.length).fill(-1 / tokens)), learningRate });
    losses.push(loss);
    onStep?.(step, loss);
  }
  return losses;
}
