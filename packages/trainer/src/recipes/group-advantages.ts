import { computeAdvantages } from '@aipo/core';
import type { Trajectory } from './trajectory';

/**
 * Sequence advantages from core's GRPO estimator (DeepSeekMath, arXiv 2402.03300):
 * Â_i = (R_i − mean_g)/(std_g + ε), or R_i − mean_g with `normalizeByStd: false` (Dr.GRPO,
 * arXiv 2503.20783; the AIPO prototype and LUFFY's released script). LUFFY's off-policy trace is a
 * group member, so it enters mean_g and std_g (mix_trainer.py, algorithms.md §3.2). Also returns
 * which sequences sit in zero-variance groups (DAPO's dynamic-sampling filter).
 */
export function computeGroupAdvantages(options: { trajectories: readonly Trajectory[]; normalizeByStd: boolean }): {
  advantages: number[];
  zeroVariance: boolean[];
} {
  const { trajectories, normalizeByStd } = options;
  const batchSize = trajectories.length;
  if (batchSize === 0) return { advantages: [], zeroVariance: [] };
  // outcome advantages are per sequence; one column of mask is all the estimator needs
  const result = computeAdvantages({
    estimator: 'grpo',
    batchSize,
    sequenceLength: 1,
    rewards: Float32Array.from(trajectories, (trajectory) => trajectory.reward),
    lossMask: new Uint8Array(batchSize).fill(1),
    groupIds: Int32Array.from(trajectories, (trajectory) => trajectory.group),
    options: { normalizeByStd },
  });
  const sequence = result.sequenceAdvantages ?? result.advantages;
  return { advantages: Array.from(sequence), zeroVariance: Array.from(result.zeroVarianceMask, (flag) => flag === 1) };
}
