import { computeGroupStatistics } from '../advantages/group-statistics';
import { assertNumber } from '../batch/assert-finite';
import type { FloatArray } from '../batch/float-array';
import { assertLength } from '../batch/policy-batch';
import { AipoError } from '../errors/aipo-error';

/**
 * Group filtering / dynamic sampling (DAPO arXiv 2503.14476 §3.2; verl `algorithm.filter_groups`,
 * OpenRLHF `dynamic_filtering_range`): drop whole groups that carry no learning signal, either
 * because their rewards do not vary (the same tolerance as the advantage estimators, not `std > 0`)
 * or because their mean reward is outside (meanLower, meanUpper). NaN rewards are ignored in the
 * statistics; a group without any scorable reward is dropped.
 */
export function groupFilterMask(options: {
  /** [B] rewards */
  rewards: FloatArray;
  /** [B] group ids (any Int32Array); absent = one group */
  groupIds?: Int32Array;
  /** drop groups whose rewards are all equal within the tolerance; default true */
  dropZeroVariance?: boolean;
  /** tolerance of the zero-variance test; default 1e-6 (relative to max(1, |reward|)) */
  zeroVarianceTolerance?: number;
  /** keep only groups with mean > meanLower; default -Infinity */
  meanLower?: number;
  /** keep only groups with mean < meanUpper; default +Infinity */
  meanUpper?: number;
}): { keep: Uint8Array; keptGroupCount: number; droppedGroupCount: number } {
  const { rewards, groupIds } = options;
  assertLength('groupIds', groupIds, rewards.length);
  for (let row = 0; row < rewards.length; row++) {
    const reward = rewards[row] as number;
    if (!Number.isNaN(reward) && !Number.isFinite(reward)) {
      throw new AipoError({ code: 'NON_FINITE_INPUT', message: `rewards[${row}] is ${reward}`, details: { row } });
    }
  }
  const lower = options.meanLower ?? Number.NEGATIVE_INFINITY;
  const upper = options.meanUpper ?? Number.POSITIVE_INFINITY;
  if (Number.isNaN(lower) || Number.isNaN(upper) || lower >= upper) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `meanLower must be below meanUpper (got ${lower}, ${upper})`,
    });
  }
  const tolerance = options.zeroVarianceTolerance ?? 1e-6;
  assertNumber('zeroVarianceTolerance', tolerance, (value) => value >= 0, '>= 0');
  const groups = computeGroupStatistics({
    rewards: Float64Array.from(rewards),
    groupIds,
    settings: { zeroVarianceTolerance: tolerance },
  });
  const keepGroup = new Uint8Array(groups.count);
  let keptGroupCount = 0;
  for (let group = 0; group < groups.count; group++) {
    const mean = groups.mean[group] as number;
    const informative = !(options.dropZeroVariance ?? true) || groups.zeroVariance[group] === 0;
    const keep = (groups.size[group] as number) > 0 && informative && mean > lower && mean < upper;
    keepGroup[group] = keep ? 1 : 0;
    if (keep) keptGroupCount++;
  }
  const keep = new Uint8Array(rewards.length);
  for (let row = 0; row < rewards.length; row++) keep[row] = keepGroup[groups.groupOf[row] as number] as number;
  return { keep, keptGroupCount, droppedGroupCount: groups.count - keptGroupCount };
}
