import type { FloatArray } from '../batch/float-array';
import { AipoError } from '../errors/aipo-error';

/**
 * Reward clipping R = clip(R, lower, upper) (OpenRLHF `reward.clip_range`, default (-10, 10); TRL
 * RLOO `reward_clip_range`). NaN (unscorable) rewards stay NaN.
 */
export function clipRewards(options: { rewards: FloatArray; lower: number; upper: number }): {
  rewards: Float32Array;
  clippedCount: number;
} {
  const { rewards, lower, upper } = options;
  if (Number.isNaN(lower) || Number.isNaN(upper) || lower > upper) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `clipRewards needs lower <= upper (got ${lower}, ${upper})`,
    });
  }
  const clipped = new Float32Array(rewards.length);
  let clippedCount = 0;
  for (let row = 0; row < rewards.length; row++) {
    const reward = rewards[row] as number;
    const value = Math.min(Math.max(reward, lower), upper);
    if (value !== reward && !Number.isNaN(reward)) clippedCount++;
    clipped[row] = value;
  }
  return { rewards: clipped, clippedCount };
}
