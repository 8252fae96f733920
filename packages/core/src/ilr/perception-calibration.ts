import { AipoError } from '../errors/aipo-error';
import type { FloatArray } from '../batch/float-array';
import { assertNumber } from '../batch/assert-finite';
import { assertLength } from '../batch/policy-batch';

/** What to do when a peer's rewards on a question are all equal (R_max = R_min, common with 0/1 rewards). */
export type ZeroRangeGuard = 'zero' | { epsilon: number };

/** One peer model's rewards, in the batch layout: [B_l] rewards with [B_l] question (group) ids. */
export interface PeerRewards {
  /** [B_l] rewards of the peer's samples */
  rewards: FloatArray;
  /** [B_l] question id of each sample (the same ids as the calibrated model's) */
  groupIds: Int32Array;
}

export interface CalibrateRewardsOptions {
  /** [B] rewards R_{i,k} of the model being trained */
  rewards: FloatArray;
  /** [B] question id of each sample */
  groupIds: Int32Array;
  /** the other m − 1 models' rewards on the same questions */
  peers: readonly PeerRewards[];
  /**
   * zero peer range: 'zero' drops that peer's term (default), `{ epsilon }` divides by
   * (R_max − R_min + ε) for every question. The paper does not say (algorithms.md §2.4 [I]).
   */
  zeroRange?: ZeroRangeGuard;
  /** clip bound of each peer term (default 1/(m − 1), the paper's) */
  clipBound?: number;
}

/**
 * ILR perception calibration (Lin et al., "Interactive Learning for LLM Reasoning",
 * arXiv 2509.26306, Eq. 5; algorithms.md §2.4): each reward is shifted by how it compares with
 * every peer's rewards on the same question,
 *   R̄_{i,k} = R_{i,k} + Σ_{l≠i} clip((R_{i,k} − R_{l,avg}) / (R_{l,max} − R_{l,min}), −1/(m−1), 1/(m−1)),
 * and standard GRPO then runs on R̄. Returns the [B] calibrated rewards.
 */
export function calibrateRewards(options: CalibrateRewardsOptions): Float32Array {
  const { rewards, groupIds, peers, zeroRange = 'zero' } = options;
  assertLength('groupIds', groupIds, rewards.length);
  assertFinite('rewards', rewards);
  if (peers.length === 0) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'perception calibration needs at least one peer model' });
  }
  const clipBound = options.clipBound ?? 1 / peers.length;
  assertNumber('clipBound', clipBound, (value) => value > 0, 'a positive number');
  const epsilon = zeroRange === 'zero' ? 0 : zeroRange.epsilon;
  if (zeroRange !== 'zero') assertNumber('zeroRange.epsilon', epsilon, (value) => value > 0, 'a positive number');
  const calibrated = Float32Array.from(rewards);
  peers.forEach((peer, peerIndex) => {
    const statistics = peerStatistics(peer, peerIndex);
    for (let k = 0; k < rewards.length; k++) {
      const stats = statistics.get(groupIds[k] as number);
      if (stats === undefined) {
        throw new AipoError({
          code: 'INVALID_ARGUMENT',
          message: `peer ${peerIndex} has no samples for question ${groupIds[k]}; every peer must answer every question it is compared on`,
          details: { peer: peerIndex, groupId: groupIds[k] },
        });
      }
      const range = stats.max - stats.min + epsilon;
      if (range === 0) continue;
      const term = ((rewards[k] as number) - stats.sum / stats.count) / range;
      calibrated[k] = (calibrated[k] as number) + Math.min(clipBound, Math.max(-clipBound, term));
    }
  });
  return calibrated;
}

function peerStatistics(peer: PeerRewards, peerIndex: number): Map<number, { sum: number; count: number; min: number; max: number }> {
  assertLength(`peers[${peerIndex}].groupIds`, peer.groupIds, peer.rewards.length);
  assertFinite(`peers[${peerIndex}].rewards`, peer.rewards);
  const statistics = new Map<number, { sum: number; count: number; min: number; max: number }>();
  for (let index = 0; index < peer.rewards.length; index++) {
    const reward = peer.rewards[index] as number;
    const id = peer.groupIds[index] as number;
    const stats = statistics.get(id);
    if (stats === undefined) statistics.set(id, { sum: reward, count: 1, min: reward, max: reward });
    else {
      stats.sum += reward;
      stats.count++;
      stats.min = Math.min(stats.min, reward);
      stats.max = Math.max(stats.max, reward);
    }
  }
  return statistics;
}

function assertFinite(name: string, values: FloatArray): void {
  for (let index = 0; index < values.length; index++) {
    if (!Number.isFinite(values[index])) {
      throw new AipoError({
        code: 'NON_FINITE_INPUT',
        message: `${name}[${index}] is ${values[index]}; drop unscorable (NaN) samples before calibration`,
        details: { name, index, value: values[index] },
      });
    }
  }
}
