import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../random/seeded-rng';
import { loadNativeMatMul } from './native-matmul';
import { selectBackend } from './select-backend';

// With the optional native addon built (when a compiler exists), wasm BatchMatMul below is the
// native sgemm; without it, the XNNPACK patch. Either must match cpu.
beforeAll(() => {
  execFileSync(process.execPath, [fileURLToPath(new URL('../../native/build.mjs', import.meta.url))]);
});

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
    expect(wasm.matMul).toMatch(loadNativeMatMul().available ? /native AVX2\/FMA sgemm/ : /wasm XNNPACK/);
    expect(wasm.reason).toContain(`matmul: ${wasm.matMul}`);
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

  it('wasm Identity and same-dtype Cast share the buffer, other casts still convert, nothing leaks', async () => {
    await selectBackend({ backend: 'wasm' });
    const before = tf.memory();
    const x = tf.tensor1d([1.5, -2.25, 3.75]);
    const copy = tf.clone(x);
    const same = tf.cast(x, 'float32');
    x.dispose();
    expect(Array.from(copy.dataSync())).toEqual([1.5, -2.25, 3.75]);
    expect(Array.from(same.dataSync())).toEqual([1.5, -2.25, 3.75]);
    const ints = tf.cast(copy, 'int32');
    expect(ints.dtype).toBe('int32');
    expect(Array.from(ints.dataSync())).toEqual([1, -2, 3]);
    // a gradient through clone/cast (the tape's Identity calls) is unchanged
    const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.clone(t), tf.cast(t, 'float32'))))(copy);
    expect(Array.from(grad.dataSync())).toEqual([3, -4.5, 7.5]);
    tf.dispose([copy, same, ints, grad]);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
  });

  it('wasm GatherV2 row copies equal cpu (float32/int32, nested indices, other axes) and reject bad indices', async () => {
    const x = Float32Array.from({ length: 5 * 3 * 2 }, (_, i) => i * 0.5 - 3);
    const indices = [[4, 0, 4], [2, 2, 1]];
    const compute = () =>
      tf.tidy(() => {
        const t = tf.tensor3d(x, [5, 3, 2]);
        const ids = tf.tensor2d(indices, [2, 3], 'int32');
        return [
          tf.gather(t, ids),
          tf.gather(tf.cast(tf.mul(t, 2), 'int32'), ids),
          tf.gather(t, tf.tensor1d([2, 0], 'int32'), 1),
          tf.gather(t, tf.tensor1d([], 'int32')),
        ].map((r) => ({ shape: r.shape, dtype: r.dtype, values: Array.from(r.dataSync()) }));
      });
    await selectBackend({ backend: 'wasm' });
    const onWasm = compute();
    await selectBackend({ backend: 'cpu' });
    const onCpu = compute();
    await selectBackend({ backend: 'wasm' });
    expect(onWasm).toEqual(onCpu);
    expect(onWasm[0]!.shape).toEqual([2, 3, 3, 2]);
    expect(onWasm[0]!.values.slice(0, 6)).toEqual(Array.from(x.subarray(24, 30)));
    expect(() => tf.tidy(() => tf.gather(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor1d([2], 'int32')))).toThrow(/index value 2 is not in \[0, 1\]/);
  });
});
