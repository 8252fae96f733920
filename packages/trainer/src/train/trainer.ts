import { appendFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { AipoError } from '@aipo/core';
import type { WasmBackend } from '../backend/native-matmul';
import type { CausalLM } from '../model/causal-lm';
import { forwardPacked, fromResponseLayout, packSequences, toResponseLayout, type PackedSequences } from '../model/pack-sequences';
import { createRng, type SeededRng } from '../random/seeded-rng';
import { AdamW, type AdamWOptions } from './adamw';
import { createLrSchedule, type LrSchedule } from './lr-schedule';
import { nllLossWeights } from './nll-loss-weights';
import { assertTrajectoryBatch, responseLength, type TrajectoryBatch } from './trajectory-batch';

/** What the loss-weights callback sees for one micro-batch (rows `start..end` of the batch). */
export interface LossWeightsInput {
  /** the full batch (rewards, masks, old log-probs: index rows from `rows.start`) */
  batch: TrajectoryBatch;
  /** micro-batch rows [start, end) */
  rows: { start: number; end: number };
  /** T of the full batch (arrays below are `[end − start, T]`) */
  sequenceLength: number;
  /** [b,T] log π_θ of the response tokens (0 in padding) */
  logProbs: Float32Array;
  /** [b,T] log π_ref of the frozen reference model (when the trainer has one) */
  refLogProbs?: Float32Array;
  /** [b,T,V] logits at the response positions (only when the step asked for them) */
  logits?: Float32Array;
}

/**
 * Per-token gradient weights, e.g. core's `gradLogProbs`. The step backpropagates the surrogate
 * Σ stopGradient(∂L/∂logp)·logp (+ Σ ∂L/∂logits·logits), whose gradient equals ∂L/∂θ for any
 * estimator, loss and aggregation: the trainer never needs to know which loss produced them.
 */
export interface LossWeights {
  /** [b,T] ∂L/∂logp (normalised with global counts for exact accumulation) */
  gradLogProbs: Float32Array;
  /** [b,T,V] extra ∂L/∂logits, e.g. core's entropy-bonus gradient */
  gradLogits?: Float32Array;
  /** the loss value of this micro-batch, summed into the step's reported loss */
  loss?: number;
}

export type LossWeightsFn = (input: LossWeightsInput) => LossWeights;

export interface TrainerOptions {
  /** the policy to train */
  model: CausalLM;
  /** frozen reference policy: its log-probs reach the callback as `refLogProbs` (KL with β > 0) */
  referenceModel?: CausalLM;
  /** peak learning rate (default 1e-5) or a full schedule */
  learningRate?: number | LrSchedule;
  /** AdamW settings */
  optimizer?: AdamWOptions;
  /** clip the global gradient norm to this (default 1.0; Infinity = off) */
  maxGradNorm?: number;
  /** rows per forward/backward pass; gradients accumulate exactly across micro-batches (default: whole batch) */
  microBatchSize?: number;
  /** seed of the trainer's RNG (`trainer.rng`, saved in checkpoints) */
  seed?: number;
  /** append one JSON line of metrics per step to this file */
  metricsPath?: string;
  /**
   * how the current log-probs reach the weights callback: `sync` reads them inside the gradient tape
   * (one forward pass); `async` awaits them first and runs the forward again under the tape (two
   * passes, same gradients: for backends without synchronous reads, such as webgpu in Node,
   * tfjs-perf.md Q1); `auto` (default) is `sync` on wasm, cpu and tensorflow, else `async`
   */
  reads?: 'auto' | 'sync' | 'async';
}

const SYNC_READ_BACKENDS = new Set(['wasm', 'cpu', 'tensorflow']);

export interface StepOptions {
  /** the trajectories */
  batch: TrajectoryBatch;
  /** weights from the current-policy log-probs of each micro-batch */
  lossWeights: LossWeightsFn;
  /** pass `[b,T,V]` response logits to the callback (entropy bonus) */
  needsLogits?: boolean;
}

export interface StepMetrics {
  /** 1-based count of updates done */
  step: number;
  /** sum of the callbacks' `loss` (NaN if none reported one) */
  loss: number;
  /** global gradient norm before clipping */
  gradNorm: number;
  /** learning rate used */
  learningRate: number;
  /** tokens with a non-zero weight */
  tokens: number;
  /** rows in the batch */
  sequences: number;
}

/** A trainer over a CausalLM: one `step` = forward, weights callback, backward, clip, AdamW. */
export class Trainer {
  readonly model: CausalLM;
  readonly referenceModel: CausalLM | undefined;
  readonly optimizer: AdamW;
  readonly schedule: LrSchedule;
  readonly maxGradNorm: number;
  readonly microBatchSize: number | undefined;
  readonly metricsPath: string | undefined;
  readonly reads: 'auto' | 'sync' | 'async';
  /** trainer-owned PRNG for callers (shuffling, rollout seeds); restored by checkpoints */
  rng: SeededRng;

  constructor(options: TrainerOptions) {
    const { model, referenceModel, learningRate = 1e-5, optimizer, maxGradNorm = 1, microBatchSize, seed = 0, metricsPath, reads = 'auto' } = options;
    if (microBatchSize !== undefined && !(Number.isInteger(microBatchSize) && microBatchSize > 0)) {
      throw new AipoError({ code: 'INVALID_ARGUMENT', message: `microBatchSize must be a positive integer (got ${microBatchSize})` });
    }
    if (!(maxGradNorm > 0)) throw new AipoError({ code: 'INVALID_ARGUMENT', message: `maxGradNorm must be > 0 (got ${maxGradNorm})` });
    if (referenceModel !== undefined && referenceModel.config.vocabSize !== model.config.vocabSize) {
      throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'reference model has a different vocabulary' });
    }
    this.model = model;
    this.referenceModel = referenceModel;
    this.schedule = typeof learningRate === 'number' ? createLrSchedule({ learningRate }) : learningRate;
    this.optimizer = new AdamW(model.params, optimizer);
    this.maxGradNorm = maxGradNorm;
    this.microBatchSize = microBatchSize;
    this.metricsPath = metricsPath;
    this.reads = reads;
    this.rng = createRng({ seed });
  }

  /** updates applied so far */
  get stepCount(): number {
    return this.optimizer.step;
  }

  /** One optimisation step over the batch. */
  async step({ batch, lossWeights, needsLogits = false }: StepOptions): Promise<StepMetrics> {
    const { grads, loss, tokens } = await this.accumulateGradients({ batch, lossWeights, needsLogits });
    try {
      const gradNorm = await globalNorm(grads);
      if (!Number.isFinite(gradNorm)) {
        throw new AipoError({ code: 'NON_FINITE_INPUT', message: `gradient norm is ${gradNorm}; the update was skipped (check the loss weights and learning rate)` });
      }
      // Global-norm clipping (Pascanu et al. 2013), as torch.nn.utils.clip_grad_norm_.
      const scale = gradNorm > this.maxGradNorm ? this.maxGradNorm / (gradNorm + 1e-6) : 1;
      const learningRate = this.schedule(this.optimizer.step);
      const specs = new Map(this.model.parameterSpecs().map((spec) => [spec.name, spec]));
      this.optimizer.apply({ params: this.model.params, grads, learningRate, scale, decay: (name) => specs.get(name)?.decay ?? false });
      this.model.markWeightsChanged();
      const metrics: StepMetrics = { step: this.optimizer.step, loss, gradNorm, learningRate, tokens, sequences: batch.prompts.length };
      if (this.metricsPath !== undefined) await appendMetrics(this.metricsPath, metrics);
      return metrics;
    } finally {
      for (const t of grads.values()) t.dispose();
    }
  }

  /**
   * The accumulated gradient ∂L/∂θ of a batch without updating anything (HF names, the model's
   * `[in, out]` layout): for gradient checks and analysis.
   */
  async gradients({ batch, lossWeights, needsLogits = false }: StepOptions): Promise<Map<string, Float32Array>> {
    const { grads } = await this.accumulateGradients({ batch, lossWeights, needsLogits });
    const out = new Map<string, Float32Array>();
    for (const [name, grad] of grads) {
      out.set(name, (await grad.data()) as Float32Array);
      grad.dispose();
    }
    return out;
  }

  private async accumulateGradients({ batch, lossWeights, needsLogits }: Required<StepOptions>): Promise<{ grads: Map<string, tf.Tensor>; loss: number; tokens: number }> {
    const syncReads = this.reads === 'sync' || (this.reads === 'auto' && SYNC_READ_BACKENDS.has(tf.getBackend()));
    assertTrajectoryBatch(batch);
    const B = batch.prompts.length;
    const T = responseLength(batch);
    const size = this.microBatchSize ?? B;
    const params = this.model.params;
    let accumulated: Map<string, tf.Tensor> | undefined;
    let loss = 0;
    let reported = false;
    let tokens = 0;
    try {
      for (let start = 0; start < B; start += size) {
        const end = Math.min(B, start + size);
        const packed: PackedSequences = {
          ...packSequences({ prompts: batch.prompts.slice(start, end), responses: batch.responses.slice(start, end) }, this.model.config.vocabSize),
          responseLength: T,
        };
        const refLogProbs = this.referenceModel === undefined ? undefined : await referenceLogProbs(this.referenceModel, packed);
        const V = this.model.config.vocabSize;
        const weightsFor = (logProbs: Float32Array, logits: Float32Array | undefined): LossWeights => {
          const input: LossWeightsInput = {
            batch,
            rows: { start, end },
            sequenceLength: T,
            logProbs: toResponseLayout(packed, logProbs),
            ...(refLogProbs === undefined ? {} : { refLogProbs }),
            ...(logits === undefined ? {} : { logits: responseLogits(packed, logits, V) }),
          };
          const result = lossWeights(input);
          checkWeights(result, (end - start) * T, V);
          return result;
        };
        let weights: LossWeights | undefined;
        if (!syncReads) {
          // Async reads: the weights come from a first forward pass, awaited outside any tidy (an
          // async tidy would leak, tfjs-perf.md Q4); the tape below recomputes the same values.
          const first = tf.tidy(() => {
            const { logits, logProbs } = forwardPacked(this.model, packed);
            return needsLogits ? [logProbs, logits] : [logProbs];
          });
          try {
            const [logProbs, logits] = await Promise.all(first.map((t) => t.data() as Promise<Float32Array>));
            weights = weightsFor(logProbs!, logits);
          } finally {
            tf.dispose(first);
          }
        }
        const { value, grads } = tf.variableGrads(() => {
          const { logits, logProbs } = forwardPacked(this.model, packed);
          // A synchronous read inside the tape: the weights depend on the current log-probs (PPO ratios).
          weights ??= weightsFor(logProbs.dataSync() as Float32Array, needsLogits ? (logits.dataSync() as Float32Array) : undefined);
          const [b, L] = [packed.batchSize, packed.inputLength];
          let surrogate = tf.sum(tf.mul(logProbs, tf.tensor2d(fromResponseLayout(packed, weights.gradLogProbs), [b, L])));
          if (weights.gradLogits !== undefined) {
            surrogate = tf.add(surrogate, tf.sum(tf.mul(logits, tf.tensor3d(fromResponseLayout(packed, weights.gradLogits, V), [b, L, V]))));
          }
          return surrogate as tf.Scalar;
        }, [...params.values()]);
        value.dispose();
        for (const w of weights!.gradLogProbs) if (w !== 0) tokens++;
        if (weights!.loss !== undefined) {
          loss += weights!.loss;
          reported = true;
        }
        accumulated = accumulate(accumulated, grads, params);
      }
    } catch (error) {
      if (accumulated !== undefined) for (const t of accumulated.values()) t.dispose();
      throw error;
    }
    return { grads: accumulated!, loss: reported ? loss : Number.NaN, tokens };
  }

  /** Supervised fine-tuning step: mean NLL over the masked response tokens. */
  sftStep({ batch }: { batch: TrajectoryBatch }): Promise<StepMetrics> {
    return this.step({ batch, lossWeights: nllLossWeights(batch) });
  }

  /** Free the optimizer state (the models belong to the caller). */
  dispose(): void {
    this.optimizer.dispose();
  }
}

/** Create a trainer (see TrainerOptions). */
export function createTrainer(options: TrainerOptions): Trainer {
  return new Trainer(options);
}

async function referenceLogProbs(model: CausalLM, packed: PackedSequences): Promise<Float32Array> {
  const logProbs = tf.tidy(() => forwardPacked(model, packed).logProbs);
  const values = (await logProbs.data()) as Float32Array;
  logProbs.dispose();
  return toResponseLayout(packed, values);
}

function responseLogits(packed: PackedSequences, logits: Float32Array, V: number): Float32Array {
  const { batchSize: B, inputLength: L, responseLength: T } = packed;
  const out = new Float32Array(B * T * V);
  for (let b = 0; b < B; b++) {
    const offset = packed.promptLengths[b]! - 1;
    for (let t = 0; t < packed.responseLengths[b]!; t++) out.set(logits.subarray((b * L + offset + t) * V, (b * L + offset + t + 1) * V), (b * T + t) * V);
  }
  return out;
}

function checkWeights(weights: LossWeights, expected: number, V: number): void {
  if (!(weights.gradLogProbs instanceof Float32Array) || weights.gradLogProbs.length !== expected) {
    throw new AipoError({ code: 'SHAPE_MISMATCH', message: `gradLogProbs must be a Float32Array of ${expected} elements (got ${weights.gradLogProbs?.length})` });
  }
  if (weights.gradLogits !== undefined && weights.gradLogits.length !== expected * V) {
    throw new AipoError({ code: 'SHAPE_MISMATCH', message: `gradLogits must have ${expected * V} elements (got ${weights.gradLogits.length})` });
  }
  for (const array of [weights.gradLogProbs, weights.gradLogits]) {
    if (array === undefined) continue;
    for (let i = 0; i < array.length; i++) {
      if (!Number.isFinite(array[i]!)) throw new AipoError({ code: 'NON_FINITE_INPUT', message: `loss weight ${i} is ${array[i]}`, details: { index: i } });
    }
  }
}

function accumulate(sum: Map<string, tf.Tensor> | undefined, grads: tf.NamedTensorMap, params: Map<string, tf.Variable>): Map<string, tf.Tensor> {
  const byName = new Map<string, tf.Tensor>();
  for (const [name, variable] of params) {
    const grad = grads[variable.name];
    if (grad === undefined) continue;
    const previous = sum?.get(name);
    if (previous === undefined) {
      byName.set(name, grad);
    } else {
      byName.set(name, tf.add(previous, grad));
      previous.dispose();
      grad.dispose();
    }
  }
  return byName;
}

async function globalNorm(grads: Map<string, tf.Tensor>): Promise<number> {
  if (tf.getBackend() === 'wasm' || tf.getBackend() === 'cpu') {
    // One pass over synchronously readable values (float64 sum) instead of 2 kernels per tensor.
    let sum = 0;
    // wasm: read the heap in place (dataSync would copy every gradient, ≈ 3.7 MB of garbage per
    // step on the benchmark model)
    const backend = tf.backend() as unknown as Partial<WasmBackend>;
    for (const grad of grads.values()) {
      const values = backend.typedArrayFromHeap === undefined ? grad.dataSync() : backend.typedArrayFromHeap(grad);
      for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
    }
    return Math.sqrt(sum);
  }
  // A chain of two-input adds, not addN: addN binds one buffer per gradient, more than a webgpu
  // compatibility-mode adapter allows (its pipeline is rejected and the norm silently reads 0).
  const norm = tf.tidy(() => tf.sqrt([...grads.values()].reduce<tf.Tensor>((total, g) => tf.add(total, tf.sum(tf.square(g))), tf.scalar(0))));
  const value = (await norm.data())[0]!;
  norm.dispose();
  return value;
}

async function appendMetrics(path: string, metrics: StepMetrics): Promise<void> {
  try {
    await appendFile(path, `${JSON.stringify({ ...metrics, time: new Date().toISOString() })}\n`);
  } catch (cause) {
    throw new AipoError({ code: 'IO_ERROR', message: `cannot append metrics to ${path}`, cause, details: { path } });
  }
}
