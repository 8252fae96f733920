import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../random/seeded-rng';
import { selectBackend } from './select-backend';

/** The patched wasm kernels against the cpu backend on the shapes the model produces. */
describe('kernel patches', () => {
  it('BatchMatMul (transposed, shared-operand, batched attention) and the gather gradient match cpu', async () => {
    const rng = createRng({ seed: 4 });
    const random = (shape: number[]) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next() - 0.5);
    const cases: Array<{ a: number[]; b: number[]; transposeA: boolean; transposeB: boolean }> = [
      { a: [40, 24], b: [24, 32], transposeA: false, transposeB: false },
      { a: [40, 24], b: [32, 24], transposeA: false, transposeB: true },
      { a: [24, 40], b: [24, 32], transposeA: true, transposeB: false },
      { a: [3, 2, 20, 8], b: [3, 2, 20, 8], transposeA: false, transposeB: true }, // q·kᵀ, rows ≥ 16
      { a: [3, 2, 20, 20], b: [3, 2, 20, 8], transposeA: false, transposeB: false }, // p·v
      { a: [3, 2, 1, 8], b: [3, 2, 9, 8], transposeA: false, transposeB: true }, // decode step (stock path)
      { a: [4, 20, 8], b: [1, 8, 6], transposeA: false, transposeB: false }, // shared right operand
    ];
    const inputs = cases.map((c) => ({ ...c, aData: random(c.a), bData: random(c.b) }));
    const table = random([10, 6]);
    const indices = [3, 1, 3, 9, 0, 3];
    const upstream = random([6, 6]);
    const compute = () => ({
      products: inputs.map(({ a, b, aData, bData, transposeA, transposeB }) =>
        tf.tidy(() => tf.matMul(tf.tensor(aData, a), tf.tensor(bData, b), transposeA, transposeB).dataSync().slice()),
      ),
      gatherGrad: tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.gather(x, tf.tensor1d(indices, 'int32')), tf.tensor(upstream, [6, 6]))))(tf.tensor(table, [10, 6])).dataSync().slice()),
    });
    const wasm = await selectBackend({ backend: 'wasm' });
    expect(wasm.patchedKernels).toContain('BatchMatMul');
    const onWasm = compute();
    await selectBackend({ backend: 'cpu' });
    const onCpu = compute();
    await selectBackend({ backend: 'wasm' });
    onCpu.products.forEach((expected, i) => {
      expect(onWasm.products[i]!.length).toBe(expected.length);
      expected.forEach((x, j) => expect(Math.abs(x - onWasm.products[i]![j]!)).toBeLessThan(1e-5));
    });
    // row 3 is gathered three times: its gradient is the sum of three upstream rows
    onCpu.gatherGrad.forEach((x, j) => expect(Math.abs(x - onWasm.gatherGrad[j]!)).toBeLessThan(1e-6));
    const row3 = [0, 2, 5].map((k) => upstream.subarray(k * 6, k * 6 + 6)).reduce((sum, row) => sum.map((s, i) => s + row[i]!), new Float32Array(6));
    row3.forEach((x, j) => expect(onWasm.gatherGrad[18 + j]).toBeCloseTo(x, 5));
  });
});
