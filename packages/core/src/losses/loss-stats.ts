import { CLIP_HIGH, CLIP_LOW, CLIP_NONE } from './policy-loss-definition';
import type { PolicyLossDiagnostics } from './policy-loss-input';

/**
 * Raw counters of a policy-loss pass live in one Float64Array: a plain object whose fields start as small integers and
 * later hold doubles changes its hidden class mid-loop, which sent V8 into a deopt loop here.
 */
export const STAT_POLICY_TOKENS = 0;
export const STAT_CLIP_LOW = 1;
export const STAT_CLIP_HIGH = 2;
export const STAT_CLIP_DUAL = 3;
export const STAT_CLAMPED = 4;
export const STAT_RATIO_SUM = 5;
export const STAT_RATIO_MIN = 6;
export const STAT_RATIO_MAX = 7;
export const STAT_KL_SUM = 8;
export const STAT_OFF_POLICY_TOKENS = 9;
export const STAT_OFF_POLICY_WEIGHT_SUM = 10;
export const STAT_AGENT_TOKENS = 11;
export const STAT_AGENT_FLOOR_TOKENS = 12;
export const STAT_POLICY_VALUE = 13;
export const STAT_OFF_POLICY_VALUE = 14;
export const STAT_AGENT_VALUE = 15;
export const STAT_SLOTS = 16;

export type LossStats = Float64Array;

export function newStats(): LossStats {
  const stats = new Float64Array(STAT_SLOTS);
  stats[STAT_RATIO_MIN] = Number.POSITIVE_INFINITY;
  stats[STAT_RATIO_MAX] = Number.NEGATIVE_INFINITY;
  return stats;
}

export function recordPolicyToken(stats: LossStats, ratio: number, clip: number, clamped: boolean): void {
  stats[STAT_POLICY_TOKENS] = (stats[STAT_POLICY_TOKENS] as number) + 1;
  stats[STAT_RATIO_SUM] = (stats[STAT_RATIO_SUM] as number) + ratio;
  if (ratio < (stats[STAT_RATIO_MIN] as number)) stats[STAT_RATIO_MIN] = ratio;
  if (ratio > (stats[STAT_RATIO_MAX] as number)) stats[STAT_RATIO_MAX] = ratio;
  if (clip !== CLIP_NONE) {
    const slot = clip === CLIP_LOW ? STAT_CLIP_LOW : clip === CLIP_HIGH ? STAT_CLIP_HIGH : STAT_CLIP_DUAL;
    stats[slot] = (stats[slot] as number) + 1;
  }
  if (clamped) stats[STAT_CLAMPED] = (stats[STAT_CLAMPED] as number) + 1;
}

export function addStat(stats: LossStats, slot: number, amount: number): void {
  stats[slot] = (stats[slot] as number) + amount;
}

/** Turn raw counters into the public diagnostics (every ratio guarded: 0 instead of 0/0). */
export function summarize(stats: LossStats, tokenCount: number): PolicyLossDiagnostics {
  const get = (slot: number) => stats[slot] as number;
  const policy = get(STAT_POLICY_TOKENS);
  const perPolicy = (count: number) => (policy > 0 ? count / policy : 0);
  const offPolicy = get(STAT_OFF_POLICY_TOKENS);
  const agent = get(STAT_AGENT_TOKENS);
  return {
    tokenCount,
    policyTokenCount: policy,
    offPolicyTokenCount: offPolicy,
    agentTokenCount: agent,
    clipFractionLow: perPolicy(get(STAT_CLIP_LOW)),
    clipFractionHigh: perPolicy(get(STAT_CLIP_HIGH)),
    dualClipFraction: perPolicy(get(STAT_CLIP_DUAL)),
    ratioMean: perPolicy(get(STAT_RATIO_SUM)),
    ratioMin: policy > 0 ? get(STAT_RATIO_MIN) : 0,
    ratioMax: policy > 0 ? get(STAT_RATIO_MAX) : 0,
    approxKl: perPolicy(get(STAT_KL_SUM)),
    clampedTokenFraction: perPolicy(get(STAT_CLAMPED)),
    offPolicyWeightMean: offPolicy > 0 ? get(STAT_OFF_POLICY_WEIGHT_SUM) / offPolicy : 0,
    agentFloorFraction: agent > 0 ? get(STAT_AGENT_FLOOR_TOKENS) / agent : 0,
    valueBySource: {
      policy: get(STAT_POLICY_VALUE),
      offPolicy: get(STAT_OFF_POLICY_VALUE),
      agent: get(STAT_AGENT_VALUE),
    },
  };
}
