import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../random/seeded-rng';
import { loadNativeMatMul, nativeBatchMatMul, nativeFusedMatMul, type NativeMatMulStatus } from './native-matmul';
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
  { M: 17, N: 40, K: 300, batchA: [], batchB: [] }, // small M (decode): B read in place, partial panels, two depth blocks
  { M: 49, N: 35, K: 20, batchA: [], batchB: [] }, // just above the small-M path
  { M: 37, N: 1, K: 130, batchA: [], batchB: [] }, // matrix-vector fast path
  { M: 37, N: 21, K: 1, batchA: [2], batchB: [2] }, // outer-product fast path
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

  // Compared with unfused ops, not the stock kernel: on batched inputs with a bias the stock wasm
  // _FusedMatMul adds bias[row] instead of bias[column] (tfjs-backend-wasm 4.22, seen in this test).
  it('fused matmul (bias, activation) equals matMul + add + activation ops; PReLU goes to the fallback', async (context) => {
    if (!status.available) return context.skip();
    await selectBackend({ backend: 'wasm', nativeMatMul: false });
    const stock = tf.getKernel('_FusedMatMul', 'wasm')!.kernelFunc as unknown as Parameters<typeof nativeFusedMatMul>[0]['fallback'];
    const fellBack: string[] = [];
    const native = nativeFusedMatMul({ addon: status.addon, fallback: (args) => { fellBack.push(String(args.attrs.activation)); return stock(args); } });
    const rng = createRng({ seed: 12 });
    const random = (shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => (rng.next() - 0.5) * 4), shape);
    for (const activation of ['linear', 'relu', 'relu6', 'leakyrelu', 'sigmoid', 'elu', 'prelu'] as const) {
      for (const [transposeA, transposeB] of [[false, false], [true, true]] as const) {
        for (const biasShape of [undefined, [19], [1]]) {
          const a = random(transposeA ? [2, 5, 7] : [2, 7, 5]);
          const b = random(transposeB ? [2, 19, 5] : [2, 5, 19]);
          const bias = biasShape === undefined ? undefined : random(biasShape);
          const preluActivationWeights = activation === 'prelu' ? random([19]) : undefined;
          const inputs = { a, b, ...(bias === undefined ? {} : { bias }), ...(preluActivationWeights === undefined ? {} : { preluActivationWeights }) };
          const attrs = { transposeA, transposeB, activation, leakyreluAlpha: 0.3 };
          const unfused = (x: tf.Tensor): tf.Tensor => {
            const y = bias === undefined ? x : tf.add(x, bias);
            if (activation === 'relu') return tf.relu(y);
            if (activation === 'relu6') return tf.relu6(y);
            if (activation === 'leakyrelu') return tf.leakyRelu(y, 0.3);
            if (activation === 'sigmoid') return tf.sigmoid(y);
            if (activation === 'elu') return tf.elu(y);
            if (activation === 'prelu') return tf.prelu(y, preluActivationWeights!);
            return y;
          };
          const expected = tf.tidy(() => unfused(tf.matMul(a, b, transposeA, transposeB)));
          const actual = tf.engine().makeTensorFromTensorInfo(native({ inputs, backend: tf.backend(), attrs }));
          const label = `${activation} ${transposeA} ${biasShape}`;
          expect(actual.shape, label).toEqual(expected.shape);
          const want = expected.dataSync();
          const got = actual.dataSync();
          // PReLU runs the stock kernel (the fallback), whose batched bias is the bug noted above
          if (activation !== 'prelu' || bias === undefined) want.forEach((x, i) => expect(Math.abs(x - got[i]!), label).toBeLessThan(1e-5));
          tf.dispose([a, b, expected, actual, ...(bias === undefined ? [] : [bias]), ...(preluActivationWeights === undefined ? [] : [preluActivationWeights])]);
        }
      }
    }
    expect(fellBack).toEqual(Array(6).fill('prelu'));
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

  it('small M (B read in place) gives bitwise the rows of the packed path', (context) => {
    if (!status.available) return context.skip();
    const rng = createRng({ seed: 12 });
    // K spans two depth blocks, N ends in a partial 16-column panel; 49 rows take the packed path
    const [K, N, tall] = [300, 45, 49];
    const a = Float32Array.from({ length: tall * K }, () => rng.next() - 0.5);
    const b = Float32Array.from({ length: K * N }, () => rng.next() - 0.5);
    const packed = new Float32Array(tall * N);
    status.addon.sgemm(a, b, packed, 1, tall, N, K, false, false, 0, 0);
    for (const M of [1, 6, 17, 48]) {
      const small = new Float32Array(M * N);
      status.addon.sgemm(a.subarray(0, M * K), b, small, 1, M, N, K, false, false, 0, 0);
      expect([...small], `M = ${M}`).toEqual([...packed.subarray(0, M * N)]);
    }
  });

  it('rejects operands shorter than their shape instead of reading past them', (context) => {
    if (!status.available) return context.skip();
    const { addon } = status;
    expect(() => addon.sgemm(new Float32Array(5), new Float32Array(6), new Float32Array(4), 1, 2, 2, 3, false, false, 0, 0)).toThrow(/shorter than its shape/);
    expect(() => addon.sgemm(new Float32Array(6), new Float32Array(6), new Float32Array(4), 2, 2, 2, 3, false, false, 6, 6)).toThrow(/shorter than its shape/);
    expect(() => addon.sgemm(new Float64Array(6) as unknown as Float32Array, new Float32Array(6), new Float32Array(4), 1, 2, 2, 3, false, false, 0, 0)).toThrow(/Float32Arrays/);
    expect(() => addon.sgemm(new Float32Array(6), new Float32Array(6), new Float32Array(4), -1, 2, 2, 3, false, false, 0, 0)).toThrow(/non-negative/);
  });

  it('the build script never fails: a missing compiler is reported and the install goes on', () => {
    const build = fileURLToPath(new URL('../../native/build.mjs', import.meta.url));
    const output = execFileSync(process.execPath, [build, '--force'], { encoding: 'utf8', env: { ...process.env, CXX: '/nonexistent/c++' } });
    expect(output).toMatch(/skipped \(compiler \/nonexistent\/c\+\+ failed: .*\); the wasm kernels are used/);
  });

  it('without the addon (AIPO_NATIVE_MATMUL=0) the backend choice says so and training math still runs', () => {
    const script = [
      "const { selectBackend } = await import('./src/backend/select-backend.ts');",
      "const tf = await import('@tensorflow/tfjs');",
      "const choice = await selectBackend({ backend: 'wasm' });",
      'const product = tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]), false, true);',
      'process.stdout.write(JSON.stringify({ reason: choice.reason, kernels: choice.patchedKernels, product: Array.from(product.dataSync()) }));',
    ].join('\n');
    const cwd = fileURLToPath(new URL('../..', import.meta.url));
    const stdout = execFileSync(process.execPath, ['--no-node-snapshot', '--conditions=@aipo/source', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, AIPO_NATIVE_MATMUL: '0' },
    });
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as { reason: string; kernels: string[]; product: number[] };
    expect(result.reason).toContain('matmul: wasm XNNPACK (native sgemm unavailable: disabled by AIPO_NATIVE_MATMUL=0)');
    expect(result.kernels).not.toContain('_FusedMatMul');
    expect(result.product).toEqual([17, 23, 39, 53]);
  });
});
