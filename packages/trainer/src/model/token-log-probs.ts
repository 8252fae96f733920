import * as tf from '@tensorflow/tfjs';

/**
 * log π(target) per position from `[N, V]` logits: logSoftmax then a one-hot dot product (both
 * have gradients on every backend; tfjs-perf.md Q1). Returns `[N]`.
 */
export function tokenLogProbs(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  const logp = tf.logSoftmax(logits);
  return tf.sum(tf.mul(logp, tf.oneHot(targets, logits.shape[1])), -1) as tf.Tensor1D;
}
