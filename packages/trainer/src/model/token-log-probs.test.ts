import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/select-backend';
import { createRng } from '../random/seeded-rng';
import { tokenLogProbs } from './token-log-probs';

/** The fused log-softmax-gather against the plain logSoftmax·onehot form, values and gradients. */
describe('tokenLogProbs', () => {
  it.each(['wasm', 'cpu'] as const)('matches logSoftmax·onehot and its gradient on %s', async (backend) => {
    await selectBackend({ backend });
    const rng = createRng({ seed: 9 });
    const [N, V] = [37, 50];
    // peaked rows (spread 40) reach log-probs near −80, where a softmax-then-log would underflow
    const logits = Float32Array.from({ length: N * V }, (_, i) => (rng.next() - 0.5) * (i < 5 * V ? 40 : 4));
    const targets = Int32Array.from({ length: N }, () => Math.floor(rng.next() * V));
    const weights = Float32Array.from({ length: N }, () => rng.next() - 0.5);
    const before = tf.memory().numTensors;
    tf.engine().startScope();
    const [fused, plain] = (() => {
      const x = tf.tensor2d(logits, [N, V]);
      const t = tf.tensor1d(targets, 'int32');
      const w = tf.tensor1d(weights);
      const reference = (z: tf.Tensor2D) => tf.sum(tf.mul(tf.logSoftmax(z), tf.oneHot(t, V)), -1);
      const run = (f: (z: tf.Tensor2D) => tf.Tensor) => {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(f(v as unknown as tf.Tensor2D), w)) as tf.Scalar, [v]);
        return { value: value.dataSync()[0]!, logp: Array.from(f(v as unknown as tf.Tensor2D).dataSync()), grad: Array.from(grads[v.name]!.dataSync()) };
      };
      const v = tf.variable(x, true, `token-log-probs-test-${backend}`);
      const result = [run((z) => tokenLogProbs(z, t)), run(reference)] as const;
      v.dispose();
      return result;
    })();
    tf.engine().endScope();
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.min(...fused.logp)).toBeLessThan(-20);
    fused.logp.forEach((x, i) => expect(Math.abs(x - plain.logp[i]!)).toBeLessThan(2e-5));
    expect(Math.abs(fused.value - plain.value)).toBeLessThan(1e-4);
    fused.grad.forEach((g, i) => expect(Math.abs(g - plain.grad[i]!)).toBeLessThan(1e-6));
    // the target column carries w·(1 − p), the others −w·p
    const row = 7;
    const gradRow = fused.grad.slice(row * V, (row + 1) * V);
    expect(gradRow.reduce((s, g) => s + g, 0)).toBeCloseTo(0, 5);
    expect(Math.sign(gradRow[targets[row]!]!)).toBe(Math.sign(weights[row]!));
  });
});
