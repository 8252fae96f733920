import { describe, expect, it } from 'vitest';
import { createRng } from '../random/create-rng';
import { policyLoss } from './policy-loss';

describe('a fully masked row contributes nothing to the loss', () => {
  it('its log-probs can change arbitrarily without changing value or gradient', () => {
    const rng = createRng(11);
    const batchSize = 3;
    const sequenceLength = 5;
    const tokens = batchSize * sequenceLength;
    const logProbs = Float32Array.from({ length: tokens }, () => -rng.next() * 3);
    const oldLogProbs = Float32Array.from(logProbs, (value) => value + (rng.next() - 0.5) * 0.4);
    const lossMask = new Uint8Array(tokens).fill(1).fill(0, sequenceLength, 2 * sequenceLength);
    const sequenceAdvantages = Float32Array.from([1, -2, -0.5]);
    for (const loss of ['ppo-clip', 'gspo', 'sapo', 'gmpo']) {
      for (const aggregation of ['token-mean', 'seq-mean-token-mean'] as const) {
        const base = { loss, batchSize, sequenceLength, oldLogProbs, lossMask, sequenceAdvantages, aggregation };
        const before = policyLoss({ ...base, logProbs });
        const changed = Float32Array.from(logProbs);
        changed.fill(Number.NEGATIVE_INFINITY, sequenceLength, 2 * sequenceLength);
        const after = policyLoss({ ...base, logProbs: changed });
        expect(after.value).toBe(before.value);
        expect(Array.from(after.gradLogProbs)).toEqual(Array.from(before.gradLogProbs));
        expect(Array.from(after.gradLogProbs.subarray(sequenceLength, 2 * sequenceLength))).toEqual([0, 0, 0, 0, 0]);
      }
    }
  });
});
