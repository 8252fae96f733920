import { AipoError, calibrateRewards, type ZeroRangeGuard } from '@aipo/core';

/** One participant's rewards in the batch layout core uses. */
export interface ParticipantRewards {
  /** [B] rewards of the participant's samples */
  rewards: ArrayLike<number>;
  /** [B] question id of each sample */
  groupIds: Int32Array;
}

/** Mean, max and min of one participant's rewards on one question (for logs and dashboards). */
export interface RewardStats {
  avg: number;
  max: number;
  min: number;
}

/** Per-question statistics of a participant's rewards; throws on non-finite rewards. */
export function rewardStatsByQuestion(participant: ParticipantRewards): Map<number, RewardStats> {
  const sums = new Map<number, { sum: number; count: number; max: number; min: number }>();
  for (let index = 0; index < participant.rewards.length; index++) {
    const reward = participant.rewards[index] as number;
    if (!Number.isFinite(reward))
      throw new AipoError({ code: 'NON_FINITE_INPUT', message: `reward ${index} is ${reward}` });
    const id = participant.groupIds[index] as number;
    const entry = sums.get(id) ?? { sum: 0, count: 0, max: -Infinity, min: Infinity };
    entry.sum += reward;
    entry.count++;
    entry.max = Math.max(entry.max, reward);
    entry.min = Math.min(entry.min, reward);
    sums.set(id, entry);
  }
  return new Map(
    [...sums].map(([id, entry]) => [id, { avg: entry.sum / entry.count, max: entry.max, min: entry.min }]),
  );
}

/**
 * The perception-calibration hook of ILR (arXiv 2509.26306, Eq. 5; algorithms.md §2.4): for each
 * participant, hand its rewards and every peer's rewards (core derives R_avg, R_max, R_min per
 * question) to @aipo/core's `calibrateRewards`, before GRPO normalisation. Also returns each
 * participant's per-question statistics. `enabled: false` passes the raw rewards through (ablation).
 */
export function createPerceptionCalibrationHook(
  options: { enabled?: boolean; zeroRange?: ZeroRangeGuard; clipBound?: number } = {},
) {
  const { enabled = true, zeroRange, clipBound } = options;
  return function calibrate(participants: Record<string, ParticipantRewards>): {
    rewards: Record<string, Float32Array>;
    stats: Record<string, Map<number, RewardStats>>;
  } {
    const names = Object.keys(participants);
    const stats = Object.fromEntries(
      names.map((name) => [name, rewardStatsByQuestion(participants[name] as ParticipantRewards)]),
    );
    const rewards = Object.fromEntries(
      names.map((name) => {
        const own = participants[name] as ParticipantRewards;
        if (!enabled || names.length < 2) return [name, Float32Array.from(own.rewards)];
        const peers = names
          .filter((peer) => peer !== name)
          .map((peer) => {
            const other = participants[peer] as ParticipantRewards;
            return { rewards: Float32Array.from(other.rewards), groupIds: other.groupIds };
          });
        return [
          name,
          calibrateRewards({
            rewards: Float32Array.from(own.rewards),
            groupIds: own.groupIds,
            peers,
            ...(zeroRange !== undefined && { zeroRange }),
            ...(clipBound !== undefined && { clipBound }),
          }),
        ];
      }),
    );
    return { rewards, stats };
  };
}
