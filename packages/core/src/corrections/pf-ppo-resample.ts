import { assertFiniteAll, assertNumber } from '../batch/assert-finite';
import type { FloatArray } from '../batch/float-array';
import { AipoError } from '../errors/aipo-error';
import type { Rng } from '../random/create-rng';

/** How PF-PPO turns a sequence's reward into a sampling weight (verl `pf_ppo.reweight_method`). */
export type PfPpoMethod =
  /** |R|^power (default, power 2) */
  | 'pow'
  /** 1 for the batch's highest and lowest rewards, 0 otherwise */
  | 'max_min'
  /** 0.4 for the highest reward, 0.1 for the rest */
  | 'max_random';

export interface PfPpoResampleOptions {
  /** [B] sequence rewards (verl sums `token_level_scores` per row) */
  rewards: FloatArray;
  rng: Rng;
  /** default 'pow' */
  method?: PfPpoMethod;
  /** exponent of 'pow'; default 2 (verl `weight_pow`) */
  power?: number;
  /** rows to draw; default B (verl keeps the batch size) */
  sampleCount?: number;
}

export interface PfPpoResampleResult {
  /** [sampleCount] row indices drawn with replacement, proportionally to `weights` */
  indices: Int32Array;
  /** [B] the sampling weights, floored at 1e-8 so every row stays drawable as in verl */
  weights: Float64Array;
}

/** verl clamps weights + 1e-8 at >= 1e-8 before `torch.multinomial`. */
const WEIGHT_FLOOR = 1e-8;

/**
 * PF-PPO (Policy Filtration for PPO, arXiv 2409.06957; verl `use_pf_ppo`): resample the batch with
 * replacement so that sequences whose reward is more reliable (far from 0, or extreme) are seen
 * more often. Returns indices; gather every per-sequence array of the batch with them.
 */
export function pfPpoResample(options: PfPpoResampleOptions): PfPpoResampleResult {
  const { rewards, rng } = options;
  const method = options.method ?? 'pow';
  const power = options.power ?? 2;
  const sampleCount = options.sampleCount ?? rewards.length;
  assertFiniteAll('rewards', rewards);
  assertNumber('power', power, (value) => value >= 0, '>= 0');
  assertNumber('sampleCount', sampleCount, (value) => Number.isInteger(value) && value >= 0, 'a non-negative integer');
  if (rng === undefined || typeof rng.next !== 'function') {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'pfPpoResample needs an rng (createRng(seed))' });
  }
  if (rewards.length === 0 && sampleCount > 0) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'cannot draw rows from an empty batch' });
  }
  let max = Number.NEGATIVE_INFINITY;
  let min = Number.POSITIVE_INFINITY;
  for (const reward of rewards) {
    max = Math.max(max, reward);
    min = Math.min(min, reward);
  }
  const weights = new Float64Array(rewards.length);
  for (let row = 0; row < rewards.length; row++) {
    const reward = rewards[row] as number;
    let weight: number;
    if (method === 'pow') weight = Math.abs(reward) ** power;
    else if (method === 'max_min') weight = reward === max || reward === min ? 1 : 0;
    else if (method === 'max_random') weight = reward === max ? 0.4 : 0.1;
    else {
      throw new AipoError({
        code: 'INVALID_ARGUMENT',
        message: `unknown PF-PPO method ${String(method)} (expected pow, max_min or max_random)`,
      });
    }
    weights[row] = Math.max(weight + WEIGHT_FLOOR, WEIGHT_FLOOR);
  }
  const cumulative = new Float64Array(rewards.length);
  let total = 0;
  for (let row = 0; row < rewards.length; row++) {
    total += weights[row] as number;
    cumulative[row] = total;
  }
  const indices = new Int32Array(sampleCount);
  for (let draw = 0; draw < sampleCount; draw++) {
    const target = rng.next() * total;
    // first row whose cumulative weight exceeds the target (binary search)
    let low = 0;
    let high = rewards.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((cumulative[middle] as number) > target) high = middle;
      else low = middle + 1;
    }
    indices[draw] = low;
  }
  return { indices, weights };
}
