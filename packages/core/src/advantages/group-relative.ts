import { AipoError } from '../errors/aipo-error';
import type { AdvantageContext } from './advantage-estimator';

/**
 * Shared frame of every group-relative estimator: unscorable sequences get 0, singleton groups follow
 * `singletonPolicy`, zero-variance groups get exactly 0 (no float residue can be blown up by 1/std,
 * rl-frameworks.md §3.2 item 1a), and every other sequence gets `score(reward, group, row)`.
 */
export function mapGroupRelative(
  context: AdvantageContext,
  score: (reward: number, group: number, row: number) => number,
): Float64Array {
  const { rewards, groups, options } = context;
  const policy = options.singletonPolicy ?? 'zero';
  const advantages = new Float64Array(rewards.length);
  for (let row = 0; row < rewards.length; row++) {
    const reward = rewards[row] as number;
    if (Number.isNaN(reward)) continue;
    const group = groups.groupOf[row] as number;
    if (groups.member[row] === 0) {
      // outside the statistics (e.g. LUFFY's off-policy trace with grpo_split): scored against the
      // members' baseline; a group without members has no baseline and gives 0
      if ((groups.size[group] as number) > 0) advantages[row] = score(reward, group, row);
      continue;
    }
    if ((groups.size[group] as number) === 1) {
      if (policy === 'error') {
        throw new AipoError({
          code: 'INVALID_ARGUMENT',
          message: `sequence ${row} is alone in its group; this estimator needs at least 2 scorable samples per group (set singletonPolicy to 'zero' or 'raw-reward')`,
          details: { row },
        });
      }
      advantages[row] = policy === 'raw-reward' ? reward : 0;
      continue;
    }
    if (groups.zeroVariance[group] === 1) continue;
    advantages[row] = score(reward, group, row);
  }
  return advantages;
}
