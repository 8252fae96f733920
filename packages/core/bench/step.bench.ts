// GRPO advantages + PPO-clip loss + gradients + token-mean over B=512, T=4096 (2M tokens), the
// step of issue 2's benchmark. Reports median and p90 over >= 30 timed iterations after warm-up,
// for the general path and the fused fast path, plus the ArrayBuffer bytes each step allocates.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { computeAdvantages, policyLoss } from '@aipo/core';

const B = 512;
const T = 4096;
const GROUP_SIZE = 8;
const WARMUP = 5;
const ITERATIONS = 40;

function makeBatch() {
  let state = 12345;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const tokens = B * T;
  const logProbs = new Float32Array(tokens);
  const oldLogProbs = new Float32Array(tokens);
  const lossMask = new Uint8Array(tokens);
  const rewards = new Float32Array(B);
  const groupIds = new Int32Array(B);
  for (let row = 0; row < B; row++) {
    // interleaved (non-contiguous) groups, binary rewards, response lengths from T/4 to T
    groupIds[row] = row % (B / GROUP_SIZE);
    rewards[row] = next() < 0.4 ? 1 : 0;
    const length = Math.floor(T / 4 + next() * (T - T / 4));
    for (let column = 0; column < T; column++) {
      const index = row * T + column;
      const logProb = -0.02 - next() * 2;
      logProbs[index] = logProb;
      oldLogProbs[index] = logProb + (next() - 0.5) * 0.3;
      lossMask[index] = column < length ? 1 : 0;
    }
  }
  return { logProbs, oldLogProbs, lossMask, rewards, groupIds };
}

function quantile(sorted: number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return (sorted[lower] as number) + ((sorted[upper] as number) - (sorted[lower] as number)) * (position - lower);
}

function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export default async function run(): Promise<Record<string, unknown>> {
  const batch = makeBatch();
  const gc = exposeGc();
  const step = (fastPath: boolean) => {
    const advantages = computeAdvantages({
      estimator: 'grpo',
      batchSize: B,
      sequenceLength: T,
      rewards: batch.rewards,
      groupIds: batch.groupIds,
      lossMask: batch.lossMask,
    });
    const loss = policyLoss({
      loss: 'ppo-clip',
      batchSize: B,
      sequenceLength: T,
      logProbs: batch.logProbs,
      oldLogProbs: batch.oldLogProbs,
      advantages: advantages.advantages,
      lossMask: batch.lossMask,
      aggregation: 'token-mean',
      options: { clipEpsLow: 0.2, clipEpsHigh: 0.28 },
      fastPath,
    });
    return { advantages, loss };
  };
  const measure = (fastPath: boolean) => {
    for (let iteration = 0; iteration < WARMUP; iteration++) step(fastPath);
    const times: number[] = [];
    for (let iteration = 0; iteration < ITERATIONS; iteration++) {
      const start = process.hrtime.bigint();
      step(fastPath);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    times.sort((a, b) => a - b);
    // allocation: ArrayBuffer bytes that appear during one step while its outputs stay alive
    gc();
    const before = process.memoryUsage().arrayBuffers;
    const kept = step(fastPath);
    const allocated = process.memoryUsage().arrayBuffers - before;
    const outputBytes = kept.advantages.advantages.byteLength + kept.loss.gradLogProbs.byteLength;
    return {
      medianMs: Number(quantile(times, 0.5).toFixed(2)),
      p90Ms: Number(quantile(times, 0.9).toFixed(2)),
      minMs: Number((times[0] as number).toFixed(2)),
      iterations: ITERATIONS,
      allocatedBytes: allocated,
      outputBytes,
      allocatedBeyondOutputsBytes: allocated - outputBytes,
      value: kept.loss.value,
    };
  };
  const general = measure(false);
  const fused = measure(true);
  return { batchSize: B, sequenceLength: T, tokens: B * T, groupSize: GROUP_SIZE, general, fused };
}
