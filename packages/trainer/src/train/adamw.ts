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
}

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
  /** number of updates applied */
  step = 0;
  /** first and second moments per parameter name (created eagerly, so tensor counts stay flat) */
  readonly moments: Map<string, { m: tf.Variable; v: tf.Variable }>;

  constructor(params: Map<string, tf.Variable>, { beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = 0.01 }: AdamWOptions = {}) {
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon;
    this.weightDecay = weightDecay;
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

  dispose(): void {
    for (const { m, v } of this.moments.values()) {
      m.dispose();
      v.dispose();
    }
  }
}
