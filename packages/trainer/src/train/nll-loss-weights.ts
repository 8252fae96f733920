import type { LossWeights, LossWeightsInput } from './trainer';
import { lossMaskOf, responseLength, type TrajectoryBatch } from './trajectory-batch';

/**
 * Supervised fine-tuning through the same step: L = −(1/N) Σ logp over the N masked tokens of the
 * whole batch, so ∂L/∂logp = −1/N per token. N is the global count, which makes micro-batch
 * gradients sum to the full-batch gradient exactly.
 */
export function nllLossWeights(batch: TrajectoryBatch): (input: LossWeightsInput) => LossWeights {
  const mask = lossMaskOf(batch);
  const T = responseLength(batch);
  let total = 0;
  for (const bit of mask) total += bit;
  const scale = total === 0 ? 0 : 1 / total;
  return ({ rows, logProbs }) => {
    const gradLogProbs = new Float32Array(logProbs.length);
    let loss = 0;
    for (let i = 0; i < logProbs.length; i++) {
      if (mask[rows.start * T + i] !== 1) continue;
      gradLogProbs[i] = -scale;
      loss -= scale * logProbs[i]!;
    }
    return { gradLogProbs, loss };
  };
}
