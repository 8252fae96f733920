import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/select-backend';
import { loadNativeMatMul } from '../backend/native-matmul';
import { createRng } from '../random/seeded-rng';
import { AdamW } from './adamw';

beforeAll(async () => {
  // The native path needs the optional addon; build it when a compiler exists (never throws).
  execFileSync(process.execPath, [fileURLToPath(new URL('../../native/build.mjs', import.meta.url))]);
  await selectBackend({ backend: 'wasm' });
});

/** torch.optim.AdamW's update written out in float64 (Loshchilov & Hutter 2019, Algorithm 2). */
function referenceAdamW(input: { p: number[]; grads: number[][]; scales: number[]; lr: number; decay: boolean }): { p: number[]; m: number[]; v: number[] } {
  const [b1, b2, eps, wd] = [0.9, 0.999, 1e-8, 0.01];
  const p = [...input.p];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  input.grads.forEach((grad, index) => {
    const t = index + 1;
    for (let i = 0; i < p.length; i++) {
      const g = grad[i]! * input.scales[index]!;
      m[i] = b1 * m[i]! + (1 - b1) * g;
      v[i] = b2 * v[i]! + (1 - b2) * g * g;
      let update = m[i]! / (1 - b1 ** t) / (Math.sqrt(v[i]! / (1 - b2 ** t)) + eps);
      if (input.decay) update += wd * p[i]!;
      p[i] = p[i]! - input.lr * update;
    }
  });
  return { p, m, v };
}

describe('AdamW', () => {
  it('native and op implementations match a float64 reference and each other', (context) => {
    const status = loadNativeMatMul();
    if (!status.available) {
      process.stderr.write(`native AdamW not compared: ${status.reason}\n`);
      return context.skip();
    }
    const rng = createRng({ seed: 5 });
    const random = (n: number, spread: number) => Array.from({ length: n }, () => (rng.next() - 0.5) * spread);
    const initial = { w: random(300, 2), b: random(7, 2) };
    const steps = [0, 1, 2].map(() => ({ w: random(300, 0.2), b: random(7, 0.2) }));
    const scales = [1, 0.37, 1];
    const lr = 1e-2;
    const run = (implementation: 'native' | 'ops') => {
      const params = new Map<string, tf.Variable>([
        ['w', tf.variable(tf.tensor2d(initial.w, [20, 15]), true, `adamw-test-${implementation}-w`)],
        ['b', tf.variable(tf.tensor1d(initial.b), true, `adamw-test-${implementation}-b`)],
      ]);
      const optimizer = new AdamW(params, { implementation });
      const before = tf.memory().numTensors;
      for (const [index, step] of steps.entries()) {
        const grads = new Map<string, tf.Tensor>([['w', tf.tensor2d(step.w, [20, 15])], ['b', tf.tensor1d(step.b)]]);
        optimizer.apply({ params, grads, learningRate: lr, scale: scales[index]!, decay: (name) => name === 'w' });
        tf.dispose([...grads.values()]);
      }
      expect(tf.memory().numTensors).toBe(before);
      const read = (t: tf.Tensor) => Array.from(t.dataSync());
      const out = { w: read(params.get('w')!), b: read(params.get('b')!), mw: read(optimizer.moments.get('w')!.m), vb: read(optimizer.moments.get('b')!.v), step: optimizer.step };
      optimizer.dispose();
      for (const variable of params.values()) variable.dispose();
      return out;
    };
    const fused = run('native');
    const ops = run('ops');
    const w = referenceAdamW({ p: initial.w, grads: steps.map((s) => s.w), scales, lr, decay: true });
    const b = referenceAdamW({ p: initial.b, grads: steps.map((s) => s.b), scales, lr, decay: false });
    for (const result of [fused, ops]) {
      expect(result.step).toBe(3);
      result.w.forEach((x, i) => expect(Math.abs(x - w.p[i]!)).toBeLessThan(1e-6));
      result.b.forEach((x, i) => expect(Math.abs(x - b.p[i]!)).toBeLessThan(1e-6));
      result.mw.forEach((x, i) => expect(Math.abs(x - w.m[i]!)).toBeLessThan(1e-7));
      result.vb.forEach((x, i) => expect(Math.abs(x - b.v[i]!)).toBeLessThan(1e-8));
    }
    // Same float32 operations in the same order: the two paths agree bit for bit.
    expect(fused.w).toEqual(ops.w);
    expect(fused.b).toEqual(ops.b);
    expect(fused.mw).toEqual(ops.mw);
    expect(fused.vb).toEqual(ops.vb);
    // the weights actually moved
    expect(fused.w.some((x, i) => Math.abs(x - initial.w[i]!) > 1e-3)).toBe(true);
  });

  it('op path alone matches the reference, and a native request off wasm is a typed error', async () => {
    const params = new Map<string, tf.Variable>([['w', tf.variable(tf.tensor1d([0.5, -1.5]), true, 'adamw-test-ops-only')]]);
    const optimizer = new AdamW(params, { implementation: 'ops' });
    const grads = new Map<string, tf.Tensor>([['w', tf.tensor1d([0.2, -0.1])]]);
    optimizer.apply({ params, grads, learningRate: 0.1, scale: 1, decay: () => true });
    const expected = referenceAdamW({ p: [0.5, -1.5], grads: [[0.2, -0.1]], scales: [1], lr: 0.1, decay: true }).p;
    Array.from(params.get('w')!.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(expected[i]!, 6));
    await selectBackend({ backend: 'cpu' });
    const native = new AdamW(params, { implementation: 'native' });
    expect(() => native.apply({ params, grads, learningRate: 0.1, scale: 1, decay: () => true })).toThrow(expect.objectContaining({ code: 'MISSING_DEPENDENCY' }));
    await selectBackend({ backend: 'wasm' });
    tf.dispose([...grads.values(), ...params.values()]);
    optimizer.dispose();
    native.dispose();
  });
});
