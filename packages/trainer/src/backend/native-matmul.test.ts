import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../random/seeded-rng';
import { loadNativeMatMul, nativeBatchMatMul, type NativeMatMulStatus } from './native-matmul';
import { selectBackend } from './select-backend';

type Case = { a: number[]; b: number[]; transposeA: boolean; transposeB: boolean };

// Every transpose combination on shapes that are not multiples of the 6×16 micro-tile, deeper than
// one 256-deep block, taller than one 96-row block and wider than one 2048-column block, plus the
// batched (attention), broadcast (rank-2 or batch-1 operand) and decode (one row) cases of the model.
const shapes: Array<{ M: number; N: number; K: number; batchA: number[]; batchB: number[] }> = [
  { M: 7, N: 19, K: 5, batchA: [], batchB: [] },
  { M: 200, N: 33, K: 300, batchA: [], batchB: [] },
  { M: 13, N: 2100, K: 9, batchA: [], batchB: [] },
  { M: 1, N: 16, K: 6, batchA: [], batchB: [] },
  { M: 20, N: 20, K: 8, batchA: [3, 2], batchB: [3, 2] },
  { M: 1, N: 9, K: 8, batchA: [3, 2], batchB: [3, 2] },
  { M: 20, N: 6, K: 8, batchA: [4], batchB: [] },
  { M: 20, N: 6, K: 8, batchA: [4], batchB: [1] },
  { M: 5, N: 6, K: 8, batchA: [1], batchB: [4] },
];
const cases: Case[] = shapes.flatMap(({ M, N, K, batchA, batchB }) =>
  [false, true].flatMap((transposeA) =>
    [false, true].map((transposeB) => ({ a: [...batchA, ...(transposeA ? [K, M] : [M, K])], b: [...batchB, ...(transposeB ? [N, K] : [K, N])], transposeA, transposeB })),
  ),
);

let status: NativeMatMulStatus = { available: false, reason: 'not probed' };

beforeAll(() => {
  // The addon is optional: build it here if a compiler exists (the build never throws).
  const output = execFileSync(process.execPath, [fileURLToPath(new URL('../../native/build.mjs', import.meta.url))], { encoding: 'utf8' });
  status = loadNativeMatMul();
  if (!status.available) {
    process.stderr.write(`native matmul tests skipped: ${status.reason} (${output.trim()})\n`);
    if (process.env.CI !== undefined && process.arch === 'x64') throw new Error(`CI: the native matmul must build on x64 (${status.reason})`);
  }
});

describe('native BatchMatMul', () => {
  it('equals the wasm kernel on every transpose, batch and broadcast case', async (context) => {
    if (!status.available) return context.skip();
    const choice = await selectBackend({ backend: 'wasm', nativeMatMul: false });
    expect(tf.getBackend()).toBe('wasm');
    expect(choice.matMul).toMatch(/wasm XNNPACK/);
    const wasmKernel = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc as unknown as Parameters<typeof nativeBatchMatMul>[0]['fallback'];
    let fallbacks = 0;
    const native = nativeBatchMatMul({ addon: status.addon, fallback: (args) => { fallbacks++; return wasmKernel(args); } });
    const rng = createRng({ seed: 11 });
    const random = (shape: number[]) => Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => rng.next() - 0.5);
    for (const c of cases) {
      const a = tf.tensor(random(c.a), c.a);
      const b = tf.tensor(random(c.b), c.b);
      const expected = tf.matMul(a, b, c.transposeA, c.transposeB);
      const info = native({ inputs: { a, b }, backend: tf.backend(), attrs: { transposeA: c.transposeA, transposeB: c.transposeB } });
      const actual = tf.engine().makeTensorFromTensorInfo(info);
      const label = JSON.stringify(c);
      expect(actual.shape, label).toEqual(expected.shape);
      const want = expected.dataSync();
      const got = actual.dataSync();
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i]! - got[i]!));
      // K ≤ 300 products of values in ±0.5: float32 summation-order differences stay near 1e-6.
      expect(worst, label).toBeLessThan(1e-5);
      expect(got.every(Number.isFinite), label).toBe(true);
      tf.dispose([a, b, expected, actual]);
    }
    expect(fallbacks).toBe(0);
  });

  it('hands int32 and partially broadcast batches to the fallback kernel', (context) => {
    if (!status.available) return context.skip();
    const seen: string[] = [];
    const kernel = nativeBatchMatMul({
      addon: status.addon,
      fallback: ({ inputs }) => {
        seen.push(`${inputs.a!.dtype}:${inputs.a!.shape}|${inputs.b!.shape}`);
        return inputs.a!;
      },
    });
    const attrs = { transposeA: false, transposeB: false };
    kernel({ inputs: { a: { dataId: {}, shape: [2, 2], dtype: 'int32' }, b: { dataId: {}, shape: [2, 2], dtype: 'int32' } }, backend: tf.backend(), attrs });
    kernel({ inputs: { a: { dataId: {}, shape: [2, 3, 4, 4], dtype: 'float32' }, b: { dataId: {}, shape: [3, 4, 4], dtype: 'float32' } }, backend: tf.backend(), attrs });
    expect(seen).toEqual(['int32:2,2|2,2', 'float32:2,3,4,4|3,4,4']);
  });

  it('rejects operands shorter than their shape instead of reading past them', (context) => {
    if (!status.available) return context.skip();
    const { addon } = status;
    expect(() => addon.sgemm(new Float32Array(5), new Float32Array(6), new Float32Array(4), 1, 2, 2, 3, false, false, 0, 0)).toThrow(/shorter than its shape/);
    expect(() => addon.sgemm(new Float32Array(6), new Float32Array(6), new Float32Array(4), 2, 2, 2, 3, false, false, 6, 6)).toThrow(/shorter than its shape/);
    expect(() => addon.sgemm(new Float64Array(6) as unknown as Float32Array, new Float32Array(6), new Float32Array(4), 1, 2, 2, 3, false, false, 0, 0)).toThrow(/Float32Arrays/);
    expect(() => addon.sgemm(new Float32Array(6), new Float32Array(6), new Float32Array(4), -1, 2, 2, 3, false, false, 0, 0)).toThrow(/non-negative/);
  });
});
