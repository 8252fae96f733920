import * as tf from '@tensorflow/tfjs';

/** Additive value for blocked attention slots; finite so fully padded rows stay NaN-free. */
export const MASKED = -1e9;

export interface AttentionMaskOptions {
  /** B */
  batchSize: number;
  /** new query positions in this call */
  queryLength: number;
  /** [B, S] 1 where the key slot holds a real token (0 = padding); S = past + queryLength */
  keyValid: Uint8Array;
  /** S */
  keyLength: number;
}

/**
 * `[B, 1, T, S]` additive mask: query t (absolute slot S − T + t) may attend key s iff s ≤ its slot
 * and key s is not padding. A padded query with no valid key still sees itself, which keeps the
 * softmax finite; its outputs are never read.
 */
export function buildAttentionMask({ batchSize, queryLength, keyValid, keyLength }: AttentionMaskOptions): tf.Tensor4D {
  const mask = new Float32Array(batchSize * queryLength * keyLength);
  const past = keyLength - queryLength;
  for (let b = 0; b < batchSize; b++) {
    for (let t = 0; t < queryLength; t++) {
      const slot = past + t;
      const row = (b * queryLength + t) * keyLength;
      for (let s = 0; s < keyLength; s++) {
        const allowed = s <= slot && (keyValid[b * keyLength + s] === 1 || s === slot);
        mask[row + s] = allowed ? 0 : MASKED;
      }
    }
  }
  return tf.tensor4d(mask, [batchSize, 1, queryLength, keyLength]);
}
