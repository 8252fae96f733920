import { assertFiniteAll, assertNumber } from '../batch/assert-finite';
import type { FloatArray } from '../batch/float-array';
import { assertLength } from '../batch/policy-batch';
import { countRows, rowEntropy } from './entropy-from-logits';

export interface EntropyWithGradientOptions {
  /** [N,V] row-major logits */
  logits: FloatArray;
  /** V */
  vocabSize: number;
  /** [N] ∂L/∂H_n, the upstream gradient of each row's entropy (0 rows are skipped) */
  upstream: FloatArray;
  /** softmax temperature τ (default 1) */
  temperature?: number;
  /** [N] 1 = compute this row; 0 rows get H = 0 and a zero gradient, and are never read */
  rowMask?: Uint8Array;
}

export interface EntropyWithGradientResult {
  /** [N] entropies */
  entropy: Float32Array;
  /** [N,V] ∂L/∂logits = upstream_n · ∂H_n/∂z_{n,v} */
  gradLogits: Float32Array;
}

/**
 * Entropy and its gradient through the logits:
 * ∂H/∂z_v = −(1/τ)·p_v·(log p_v + H), from H = −Σ p log p and ∂p_u/∂z_v = p_u(δ_uv − p_v)/τ.
 * One exp per logit: the forward pass parks exp(z_v/τ − m) in the gradient buffer and the backward
 * pass turns it into the gradient in place, so nothing [N,V]-sized is allocated besides the output.
 */
export function entropyWithGradient(options: EntropyWithGradientOptions): EntropyWithGradientResult {
  const { logits, vocabSize, upstream, rowMask, temperature = 1 } = options;
  const rows = countRows({ values: logits, rowLength: vocabSize, rowMask });
  assertLength('upstream', upstream, rows);
  assertFiniteAll('upstream', upstream);
  const gradLogits = new Float32Array(logits.length);
  const forward = entropyForward({ logits, vocabSize, rowMask, temperature, scratch: gradLogits });
  entropyBackward({ logits, vocabSize, temperature, forward, upstream, gradLogits });
  return { entropy: forward.entropy, gradLogits };
}

/** Per-row results of the forward pass that the backward pass needs. */
export interface EntropyForward {
  /** [N] H per row (0 for skipped rows) */
  entropy: Float32Array;
  /** [N] max_v z_v/τ (NaN marks a skipped row) */
  max: Float64Array;
  /** [N] s = Σ_v exp(z_v/τ − m) */
  sum: Float64Array;
  /** [N] H in float64 for the backward pass */
  entropy64: Float64Array;
}

/** Forward pass: writes exp(z/τ − m) into `scratch` ([N,V]) and returns per-row statistics. */
export function entropyForward(options: {
  logits: FloatArray;
  vocabSize: number;
  rowMask: Uint8Array | undefined;
  temperature: number;
  scratch: Float32Array;
}): EntropyForward {
  const { logits, vocabSize, rowMask, temperature, scratch } = options;
  assertNumber('temperature', temperature, (value) => value > 0, 'a positive number');
  const rows = countRows({ values: logits, rowLength: vocabSize, rowMask });
  const inverse = 1 / temperature;
  const entropy = new Float32Array(rows);
  const entropy64 = new Float64Array(rows);
  const max = new Float64Array(rows).fill(Number.NaN);
  const sum = new Float64Array(rows);
  for (let row = 0; row < rows; row++) {
    if (rowMask !== undefined && rowMask[row] === 0) continue;
    const { max: m, sum: s, entropy: h } = rowEntropy({ logits, row, vocabSize, inverse, scratch });
    max[row] = m;
    sum[row] = s;
    entropy64[row] = h;
    entropy[row] = h;
  }
  return { entropy, max, sum, entropy64 };
}

/** Backward pass: turns the parked exponentials in `gradLogits` into upstream·∂H/∂z in place. */
export function entropyBackward(options: {
  logits: FloatArray;
  vocabSize: number;
  temperature: number;
  forward: EntropyForward;
  upstream: ArrayLike<number>;
  gradLogits: Float32Array;
}): void {
  const { logits, vocabSize, temperature, forward, upstream, gradLogits } = options;
  const inverse = 1 / temperature;
  for (let row = 0; row < forward.entropy.length; row++) {
    const offset = row * vocabSize;
    const m = forward.max[row] as number;
    const g = upstream[row] as number;
    if (Number.isNaN(m) || g === 0) {
      gradLogits.fill(0, offset, offset + vocabSize);
      continue;
    }
    const s = forward.sum[row] as number;
    const logS = Math.log(s);
    const h = forward.entropy64[row] as number;
    const scale = -g * inverse;
    for (let v = offset; v < offset + vocabSize; v++) {
      const e = gradLogits[v] as number;
      if (e === 0) continue;
      const p = e / s;
      const logP = (logits[v] as number) * inverse - m - logS;
      gradLogits[v] = scale * p * (logP + h);
    }
  }
}
