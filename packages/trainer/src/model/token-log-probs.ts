import * as tf from '@tensorflow/tfjs';

/**
 * log π(target) per position from `[N, V]` logits: x[target] − logsumexp(x), with a hand-written
 * gradient ∂/∂x = dy·(onehot(target) − softmax(x)). The plain form logSoftmax(x)·onehot runs about
 * twelve `[N, V]` kernels forward and backward (two of them elementwise exp, the slowest wasm op);
 * this runs one logsumexp, a gather, and four `[N, V]` ops in the backward pass, whose softmax is the
 * backend's fused kernel. Same math (log-softmax-gather fusion, as in fused cross-entropy kernels).
 * Uses only ops with kernels on every backend. Returns `[N]`.
 */
export function tokenLogProbs(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  const [N, V] = logits.shape;
  // flat index of x[i, targets[i]] in the row-major [N·V] logits
  const ids = tf.cast(targets, 'int32');
  const flatIndex = tf.add(tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(V, 'int32')), ids) as tf.Tensor1D;
  const fused = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor;
    (args[1] as tf.GradSaveFunc)([x]);
    const value = tf.sub(tf.gather(tf.reshape(x, [N * V]), flatIndex), tf.logSumExp(x, 1));
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const upstream = tf.reshape(dy as tf.Tensor, [N, 1]);
        return [tf.mul(tf.sub(tf.oneHot(ids, V), tf.softmax(saved[0]! as tf.Tensor2D)), upstream)];
      },
    };
  });
  return fused(logits) as tf.Tensor1D;
}
