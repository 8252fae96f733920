import { AipoError } from '@aipo/core';

/** step (0-based, the update about to happen) → learning rate */
export type LrSchedule = (step: number) => number;

export interface LrScheduleOptions {
  /** shape after warmup: constant, linear decay to `minLearningRate`, or cosine decay (Loshchilov & Hutter 2017) */
  kind?: 'constant' | 'linear' | 'cosine';
  /** peak learning rate */
  learningRate: number;
  /** linear warmup from ~0 over this many steps (default 0) */
  warmupSteps?: number;
  /** steps over which linear/cosine decay run (required for them) */
  totalSteps?: number;
  /** floor of the decay (default 0) */
  minLearningRate?: number;
}

/** Warmup + decay schedule as a pure function of the step (so resume needs only the step). */
export function createLrSchedule({ kind = 'constant', learningRate, warmupSteps = 0, totalSteps, minLearningRate = 0 }: LrScheduleOptions): LrSchedule {
  if (!(Number.isFinite(learningRate) && learningRate >= 0)) throw new AipoError({ code: 'INVALID_ARGUMENT', message: `learningRate must be finite and ≥ 0 (got ${learningRate})` });
  if (!(Number.isInteger(warmupSteps) && warmupSteps >= 0)) throw new AipoError({ code: 'INVALID_ARGUMENT', message: `warmupSteps must be a non-negative integer (got ${warmupSteps})` });
  if (kind !== 'constant' && !(Number.isInteger(totalSteps) && totalSteps! > warmupSteps)) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `${kind} decay needs totalSteps > warmupSteps (got ${totalSteps})` });
  }
  return (step) => {
    // HF transformers' get_*_schedule_with_warmup: lr·(step+1)/warmup during warmup, so step 0 is not 0.
    if (step < warmupSteps) return (learningRate * (step + 1)) / warmupSteps;
    if (kind === 'constant') return learningRate;
    const progress = Math.min(1, (step - warmupSteps) / (totalSteps! - warmupSteps));
    const factor = kind === 'linear' ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
    return minLearningRate + (learningRate - minLearningRate) * factor;
  };
}
