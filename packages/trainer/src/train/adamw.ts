import * as tf from '@tensorflow/tfjs';

export interface AdamWOptions {
  /** β₁ (default 0.9) */
  beta1?: number;
  /** β₂ (default 0.999) */
  beta2?: number;
  /** ε (default 1e-8) */
  epsilon?: number;
  /** decoupled weight decay λ (default 0.01), applied only to parameters flagged `decay` */
  weightDecay?: number;
  /**
   * `fused` updates each parameter in one JS loop over its values (sync backends: wasm, cpu);
   * `ops` uses tfjs ops (any backend); `auto` (default) picks `fused` where reads are synchronous
   */
  implementation?: 'auto' | 'fused' | 'ops';
}

// Backends whose dataSync is a plain read (webgpu's needs OffscreenCanvas in Node; tfjs-perf.md Q1).
const SYNC_BACKENDS = new Set(['wasm', 'cpu']);

/**
 * AdamW (Loshchilov & Hutter 2019, decoupled weight decay) with bias correction, as torch.optim.AdamW.
 * Own implementation rather than tf.train.adam: tfjs has no decoupled decay, and exact resume needs
 * the moments and the step count exported and restored bit for bit.
 */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  readonly implementation: 'auto' | 'fused' | 'ops';
  /** number of updates applied */
  step = 0;
  /** first and second moments per parameter name (created eagerly, so tensor counts stay flat) */
  readonly moments: Map<string, { m: tf.Variable; v: tf.Variable }>;

  constructor(params: Map<string, tf.Variable>, { beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = 0.01, implementation = 'auto' }: AdamWOptions = {}) {
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon;
    this.weightDecay = weightDecay;
    this.implementation = implementation;
    this.moments = new Map();
    for (const [name, variable] of params) {
      this.moments.set(name, { m: tf.variable(tf.zerosLike(variable), false), v: tf.variable(tf.zerosLike(variable), false) });
    }
  }

  /** One update: p ← p − lr·(m̂ / (√v̂ + ε) + λ·p). `scale` multiplies every gradient first (clipping). */
  apply({ params, grads, learningRate, scale, decay }: { params: Map<string, tf.Variable>; grads: Map<string, tf.Tensor>; learningRate: number; scale: number; decay: (name: string) => boolean }): void {
    this.step += 1;
    const correction1 = 1 - this.beta1 ** this.step;
    const correction2 = 1 - this.beta2 ** this.step;
    const fused = this.implementation === 'fused' || (this.implementation === 'auto' && SYNC_BACKENDS.has(tf.getBackend()));
    if (fused) {
      for (const [name, variable] of params) {
        const grad = grads.get(name);
        const moment = this.moments.get(name);
        if (grad === undefined || moment === undefined) continue;
        this.fusedUpdate({ variable, grad, moment, learningRate, scale, decay: this.weightDecay > 0 && decay(name), correction1, correction2 });
      }
      return;
    }
    tf.tidy(() => {
      for (const [name, variable] of params) {
        const grad = grads.get(name);
        const moment = this.moments.get(name);
        if (grad === undefined || moment === undefined) continue;
        const g = scale === 1 ? grad : tf.mul(grad, scale);
        const m = tf.add(tf.mul(moment.m, this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(moment.v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        moment.m.assign(m);
        moment.v.assign(v);
        let update = tf.div(tf.div(m, correction1), tf.add(tf.sqrt(tf.div(v, correction2)), this.epsilon));
        if (this.weightDecay > 0 && decay(name)) update = tf.add(update, tf.mul(variable, this.weightDecay));
        variable.assign(tf.sub(variable, tf.mul(update, learningRate)));
      }
    });
  }

  /**
   * The same update as the op path for one parameter in a single pass (the op path launches ~12
   * kernels per parameter, ≈ 450 per step on the benchmark model), in float32 like the ops: every
   * intermediate is rounded with Math.fround where a tfjs op would round it.
   */
  private fusedUpdate(input: { variable: tf.Variable; grad: tf.Tensor; moment: { m: tf.Variable; v: tf.Variable }; learningRate: number; scale: number; decay: boolean; correction1: number; correction2: number }): void {
    const { variable, grad, moment, learningRate, scale, decay, correction1, correction2 } = input;
    const f = Math.fround;
    const g = grad.dataSync() as Float32Array;
    const p = variable.dataSync() as Float32Array;
    const m = moment.m.dataSync() as Float32Array;
    const v = moment.v.dataSync() as Float32Array;
    const n = p.length;
    const nextP = new Float32Array(n);
    const nextM = new Float32Array(n);
    const nextV = new Float32Array(n);
    const [b1, b2, c1, c2, eps, lr, s, wd] = [this.beta1, this.beta2, correction1, correction2, this.epsilon, learningRate, scale, this.weightDecay].map(f) as [number, number, number, number, number, number, number, number];
    const [ob1, ob2] = [f(1 - this.beta1), f(1 - this.beta2)];
    for (let i = 0; i < n; i++) {
      const gi = s === 1 ? g[i]! : f(g[i]! * s);
      const mi = f(f(m[i]! * b1) + f(gi * ob1));
      const vi = f(f(v[i]! * b2) + f(f(gi * gi) * ob2));
      let update = f(f(mi / c1) / f(f(Math.sqrt(f(vi / c2))) + eps));
      if (decay) update = f(update + f(p[i]! * wd));
      nextM[i] = mi;
      nextV[i] = vi;
      nextP[i] = p[i]! - f(update * lr);
    }
    for (const [target, values] of [[moment.m, nextM], [moment.v, nextV], [variable, nextP]] as const) {
      const tensor = tf.tensor(values, target.shape, 'float32');
      target.assign(tensor);
      tensor.dispose();
    }
  }

  dispose(): void {
    for (const { m, v } of this.moments.values()) {
      m.dispose();
      v.dispose();
    }
  }
}
