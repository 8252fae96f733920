import { AipoError } from '@aipo/core';

/** Mean, max and min of one participant's rewards on one question. */
export interface RewardStats {
  avg: number;
  max: number;
  min: number;
}

/** What to do when a peer's rewards are all equal (R_max = R_min); the paper's choice is not published. */
export type EqualRewardGuard = { kind: 'zero' } | { kind: 'epsilon'; epsilon: number };

/**
 * ILR's Perception Calibration, Eq. (5) (arXiv 2509.26306, algorithms.md §2.4):
 *   R̄_{i,k} = R_{i,k} + Σ_{l≠i} clip((R_{i,k} − R_{l,avg}) / (R_{l,max} − R_{l,min}), −1/(m−1), 1/(m−1)).
 * Written here because @aipo/core's `src/ilr/` had not landed; the hook below takes any
 * implementation with this signature, so core's can replace it.
 */
export function calibrateRewards(options: { rewards: readonly number[]; peers: readonly RewardStats[]; guard?: EqualRewardGuard }): number[] {
  const { rewards, peers, guard = { kind: 'zero' } } = options;
  const m = peers.length + 1;
  const bound = 1 / (m - 1);
  return rewards.map((reward) => {
    if (!Number.isFinite(reward)) throw new AipoError({ code: 'NON_FINITE_INPUT', message: `reward ${reward} is not finite` });
    let calibrated = reward;
    for (const peer of peers) {
      const range = peer.max - peer.min;
      if (range === 0 && guard.kind === 'zero') continue;
      const denominator = range === 0 && guard.kind === 'epsilon' ? guard.epsilon : range;
      calibrated += Math.min(bound, Math.max(-bound, (reward - peer.avg) / denominator));
    }
    return calibrated;
  });
}

/** Compute {@link RewardStats}; throws on an empty or non-finite list. */
export function rewardStats(rewards: readonly number[]): RewardStats {
  if (rewards.length === 0 || rewards.some((reward) => !Number.isFinite(reward))) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'reward statistics need a non-empty list of finite rewards' });
  }
  return {
    avg: rewards.reduce((sum, reward) => sum + reward, 0) / rewards.length,
    max: Math.max(...rewards),
    min: Math.min(...rewards),
  };
}

/** The calibration function a hook calls; defaults to {@link calibrateRewards}. */
export type CalibrateFn = (options: { rewards: readonly number[]; peers: readonly RewardStats[]; guard?: EqualRewardGuard }) => number[];

/**
 * The perception-calibration hook: given every participant's G rewards on one question, compute
 * each participant's statistics and pass its own rewards with its peers' statistics to the
 * calibration (core's when it lands). Returns calibrated rewards by participant, before GRPO
 * normalisation. `enabled: false` returns the raw rewards (the ablation).
 */
export function createPerceptionCalibrationHook(options: { enabled?: boolean; guard?: EqualRewardGuard; calibrate?: CalibrateFn } = {}) {
  const { enabled = true, guard, calibrate = calibrateRewards } = options;
  return function calibrateQuestion(rewardsByParticipant: Record<string, readonly number[]>): {
    rewards: Record<string, number[]>;
    stats: Record<string, RewardStats>;
  } {
    const names = Object.keys(rewardsByParticipant);
    const stats = Object.fromEntries(names.map((name) => [name, rewardStats(rewardsByParticipant[name] ?? [])]));
    const rewards = Object.fromEntries(
      names.map((name) => {
        const own = [...(rewardsByParticipant[name] ?? [])];
        if (!enabled || names.length < 2) return [name, own];
        const peers = names.filter((peer) => peer !== name).map((peer) => stats[peer] as RewardStats);
        return [name, calibrate({ rewards: own, peers, ...(guard && { guard }) })];
      }),
    );
    return { rewards, stats };
  };
}
