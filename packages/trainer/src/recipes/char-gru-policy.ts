import * as tf from '@tensorflow/tfjs';
import { AipoError, createRng, entropyBonus, normal } from '@aipo/core';
import { CHAR_VOCABULARY_SIZE, decodeChars, encodeChars, END_TOKEN_ID } from './char-vocabulary';
import type { EntropyBonusRequest, PolicyState, RecipePolicy, SampledSequence, SampleRequest, SequenceScores, TokenSequence } from './recipe-policy';

/** Size of the demo model. Defaults fit the arithmetic task and train in seconds per step on 2 cores. */
export interface CharGruConfig {
  /** embedding width */
  embeddingSize?: number;
  /** GRU state width */
  hiddenSize?: number;
  /** seed of the weight initialisation */
  seed?: number;
  /** global-norm gradient clip (1.0, the usual RLVR setting) */
  maxGradNorm?: number;
}

const PARAMETER_NAMES = ['embedding', 'inputKernel', 'recurrentKernel', 'bias', 'outputKernel', 'outputBias'] as const;
type ParameterName = (typeof PARAMETER_NAMES)[number];

/**
 * The demo policy: a character-level GRU language model (Cho et al. 2014) in TensorFlow.js.
 * A recurrent state is its own KV cache, so sampling costs O(1) per token, and one tiny model
 * trains in about a second per step on a laptop CPU. Any `RecipePolicy` can replace it.
 */
export async function createCharGruPolicy(config: CharGruConfig = {}): Promise<RecipePolicy> {
  const { embeddingSize = 32, hiddenSize = 128, seed = 0, maxGradNorm = 1 } = config;
  for (const [name, value] of Object.entries({ embeddingSize, hiddenSize })) {
    if (!Number.isInteger(value) || value < 1) {
      throw new AipoError({ code: 'INVALID_CONFIG', message: `${name} must be a positive integer, got ${value}` });
    }
  }
  const vocabularySize = CHAR_VOCABULARY_SIZE;
  const rng = createRng(seed);
  const init = (shape: number[], std: number) => {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let index = 0; index < values.length; index += 1) values[index] = normal(rng, { std });
    return tf.variable(tf.tensor(values, shape), true);
  };
  const shapes: Record<ParameterName, number[]> = {
    embedding: [vocabularySize, embeddingSize],
    inputKernel: [embeddingSize, 3 * hiddenSize],
    recurrentKernel: [hiddenSize, 3 * hiddenSize],
    bias: [3 * hiddenSize],
    outputKernel: [hiddenSize, vocabularySize],
    outputBias: [vocabularySize],
  };
  const parameters = {} as Record<ParameterName, tf.Variable>;
  for (const name of PARAMETER_NAMES) {
    const shape = shapes[name];
    const fanIn = shape.length === 2 && name !== 'embedding' ? (shape[0] ?? 1) : 1;
    parameters[name] = shape.length === 1 ? tf.variable(tf.zeros(shape), true) : init(shape, 1 / Math.sqrt(fanIn));
  }
  return buildPolicy({ parameters, hiddenSize, vocabularySize, maxGradNorm, modelId: `char-gru-e${embeddingSize}-h${hiddenSize}` });
}

interface BuildOptions {
  parameters: Record<ParameterName, tf.Variable>;
  hiddenSize: number;
  vocabularySize: number;
  maxGradNorm: number;
  modelId: string;
}

function buildPolicy({ parameters, hiddenSize, vocabularySize, maxGradNorm, modelId }: BuildOptions): RecipePolicy {
  const optimizer = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  const p = parameters;

  /** input projections x·W + b for a batch of token ids: [N] → [N,3H] (hoisted out of the recurrence) */
  const project = (ids: tf.Tensor1D): tf.Tensor2D =>
    // oneHot·matMul instead of gather: wasm has no gather gradient (tfjs-perf.md Q1)
    tf.add(tf.matMul(tf.matMul(tf.oneHot(ids, vocabularySize).toFloat() as tf.Tensor2D, p.embedding as tf.Tensor2D), p.inputKernel as tf.Tensor2D), p.bias);
  /** one GRU update (Cho et al. 2014); gx: [B,3H] input projection, h: [B,H] → [B,H] */
  const cell = (gx: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D => {
    const gh = tf.matMul(h, p.recurrentKernel as tf.Tensor2D);
    const [xz, xr, xn] = tf.split(gx, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const [hz, hr, hn] = tf.split(gh, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const z = tf.sigmoid(tf.add(xz, hz));
    const r = tf.sigmoid(tf.add(xr, hr));
    const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
    // (1−z)·n + z·h written as n + z·(h − n): one op fewer per time step
    return tf.add(n, tf.mul(z, tf.sub(h, n)));
  };
  const advance = (ids: number[], h: tf.Tensor2D): tf.Tensor2D => cell(project(tf.tensor1d(ids, 'int32')), h);
  const logitsOf = (h: tf.Tensor2D): tf.Tensor2D => tf.add(tf.matMul(h, p.outputKernel as tf.Tensor2D), p.outputBias);

  /**
   * Teacher-forced pass over right-padded rows. Returns per-position log-softmax of targets
   * [B,L-1] and entropies [B,L-1] (position j predicts token j+1).
   */
  const forward = (rows: number[][], length: number): { targetLogProbs: tf.Tensor2D; entropies: tf.Tensor2D; logits: tf.Tensor2D } => {
    const batch = rows.length;
    const steps = length - 1;
    // time-major input ids [T-1, B] → projections for every step in one matMul, then unstacked
    const ids = tf.tensor1d(
      Array.from({ length: steps * batch }, (_, index) => rows[index % batch]?.[Math.floor(index / batch)] ?? END_TOKEN_ID),
      'int32',
    );
    const projections = tf.unstack(tf.reshape(project(ids), [steps, batch, 3 * hiddenSize])) as tf.Tensor2D[];
    let h = tf.zeros([batch, hiddenSize]) as tf.Tensor2D;
    const states: tf.Tensor2D[] = [];
    for (const gx of projections) {
      h = cell(gx, h);
      states.push(h);
    }
    const hidden = tf.reshape(tf.stack(states, 1), [batch * steps, hiddenSize]) as tf.Tensor2D; // [B·(T-1), H]
    const logits = logitsOf(hidden); // [B·(T-1), V]
    const logSoftmax = tf.reshape(tf.logSoftmax(logits), [batch, steps, vocabularySize]);
    const targets = tf.tensor2d(
      rows.map((row) => Array.from({ length: steps }, (_, position) => row[position + 1] ?? END_TOKEN_ID)),
      [batch, steps],
      'int32',
    );
    const targetLogProbs = tf.sum(tf.mul(logSoftmax, tf.oneHot(targets, vocabularySize).toFloat()), 2) as tf.Tensor2D;
    const entropies = tf.neg(tf.sum(tf.mul(tf.exp(logSoftmax), logSoftmax), 2)) as tf.Tensor2D;
    return { targetLogProbs, entropies, logits };
  };

  const layout = (sequences: TokenSequence[]) => {
    const rows = sequences.map((sequence) => [...sequence.prompt, ...sequence.response]);
    const length = Math.max(2, ...rows.map((row) => row.length));
    for (const sequence of sequences) {
      if (sequence.prompt.length === 0) {
        throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'every sequence needs at least one prompt token' });
      }
    }
    return { rows, length };
  };

  const policy: RecipePolicy = {
    modelId,
    endTokenId: END_TOKEN_ID,
    encode: encodeChars,
    decode: decodeChars,

    async sample({ contexts, maxTokens, temperature, stop = [], rng }: SampleRequest): Promise<SampledSequence[]> {
      if (!(temperature > 0) || !Number.isFinite(temperature)) {
        throw new AipoError({ code: 'INVALID_ARGUMENT', message: `temperature must be a positive number, got ${temperature}` });
      }
      if (contexts.some((context) => context.length === 0)) {
        throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'every context needs at least one token' });
      }
      const batch = contexts.length;
      const results: SampledSequence[] = contexts.map(() => ({ tokenIds: [], logProbs: [], text: '', finishReason: 'length' }));
      if (batch === 0) return results;
      const longest = Math.max(...contexts.map((context) => context.length));
      // left-pad; a padded position keeps the zero state (masked update)
      let state = tf.zeros([batch, hiddenSize]) as tf.Tensor2D;
      for (let position = 0; position < longest; position += 1) {
        const next = tf.tidy(() => {
          const ids = contexts.map((context) => context[position - (longest - context.length)] ?? END_TOKEN_ID);
          const active = tf.tensor2d(contexts.map((context) => [position >= longest - context.length ? 1 : 0]), [batch, 1]);
          const updated = advance(ids, state);
          return tf.add(tf.mul(active, updated), tf.mul(tf.sub(1, active), state)) as tf.Tensor2D;
        });
        state.dispose();
        state = next;
      }
      const done = new Array<boolean>(batch).fill(false);
      for (let step = 0; step < maxTokens && done.includes(false); step += 1) {
        const logits = tf.tidy(() => logitsOf(state));
        const values = (await logits.data()) as Float32Array;
        logits.dispose();
        const chosen: number[] = [];
        for (let row = 0; row < batch; row += 1) {
          const offset = row * vocabularySize;
          let max = -Infinity;
          for (let id = 0; id < vocabularySize; id += 1) max = Math.max(max, values[offset + id] ?? -Infinity);
          let total = 0;
          let scaledTotal = 0;
          for (let id = 0; id < vocabularySize; id += 1) {
            const logit = (values[offset + id] ?? 0) - max;
            total += Math.exp(logit);
            scaledTotal += Math.exp(logit / temperature);
          }
          // one draw per row per step, including finished rows: the stream stays aligned under a seed
          const draw = rng.next() * scaledTotal;
          let id = 0;
          let cumulative = 0;
          for (; id < vocabularySize - 1; id += 1) {
            cumulative += Math.exp(((values[offset + id] ?? 0) - max) / temperature);
            if (cumulative > draw) break;
          }
          chosen.push(id);
          const result = results[row];
          if (done[row] || result === undefined) continue;
          result.tokenIds.push(id);
          result.logProbs.push((values[offset + id] ?? 0) - max - Math.log(total));
          if (id === END_TOKEN_ID) {
            result.finishReason = 'stop';
            done[row] = true;
            continue;
          }
          result.text += decodeChars([id]);
          const matched = stop.find((text) => text.length > 0 && result.text.endsWith(text));
          if (matched !== undefined) {
            result.finishReason = 'stop';
            result.stop = matched;
            done[row] = true;
          }
        }
        const next = tf.tidy(() => advance(chosen, state));
        state.dispose();
        state = next;
      }
      state.dispose();
      return results;
    },

    async score(sequences: TokenSequence[]): Promise<SequenceScores> {
      if (sequences.length === 0) return { logProbs: [], entropies: [] };
      const { rows, length } = layout(sequences);
      const [logProbValues, entropyValues] = tf.tidy(() => {
        const { targetLogProbs, entropies } = forward(rows, length);
        return [targetLogProbs.dataSync() as Float32Array, entropies.dataSync() as Float32Array];
      });
      const slice = (values: Float32Array, row: number, sequence: TokenSequence) => {
        const start = row * (length - 1) + sequence.prompt.length - 1;
        return values.slice(start, start + sequence.response.length);
      };
      return {
        logProbs: sequences.map((sequence, row) => slice(logProbValues, row, sequence)),
        entropies: sequences.map((sequence, row) => slice(entropyValues, row, sequence)),
      };
    },

    supportsEntropyBonus: true,

    async trainStep({ sequences, weights, learningRate, entropyBonus: bonus }) {
      if (weights.length !== sequences.length) {
        throw new AipoError({ code: 'SHAPE_MISMATCH', message: `got ${weights.length} weight rows for ${sequences.length} sequences` });
      }
      if (!(learningRate >= 0) || !Number.isFinite(learningRate)) {
        throw new AipoError({ code: 'INVALID_ARGUMENT', message: `learningRate must be a finite number >= 0, got ${learningRate}` });
      }
      if (sequences.length === 0) return { gradNorm: 0, surrogate: 0 };
      const { rows, length } = layout(sequences);
      const weightGrid = new Float32Array(rows.length * (length - 1));
      sequences.forEach((sequence, row) => {
        const rowWeights = weights[row] as Float32Array;
        if (rowWeights.length !== sequence.response.length) {
          throw new AipoError({
            code: 'SHAPE_MISMATCH',
            message: `sequence ${row} has ${sequence.response.length} response tokens but ${rowWeights.length} weights`,
          });
        }
        rowWeights.forEach((weight, index) => {
          if (!Number.isFinite(weight)) {
            throw new AipoError({ code: 'NON_FINITE_INPUT', message: `weight ${index} of sequence ${row} is ${weight}` });
          }
          weightGrid[row * (length - 1) + sequence.prompt.length - 1 + index] = weight;
        });
      });
      (optimizer as unknown as { learningRate: number }).learningRate = learningRate;
      return tf.tidy(() => {
        const weightTensor = tf.tensor2d(weightGrid, [rows.length, length - 1]);
        // surrogate Σ sg(w)·log π_θ: its gradient is Σ w·∇log π_θ, whatever loss produced w
        const { value, grads } = tf.variableGrads(() => {
          const outputs = forward(rows, length);
          const surrogate = tf.sum(tf.mul(weightTensor, outputs.targetLogProbs)) as tf.Scalar;
          if (bonus === undefined || bonus.coefficient === 0) return surrogate;
          // core's exact entropy gradient ∂(−c·agg H)/∂logits, backpropagated as Σ sg(g)·logits
          const gradLogits = entropyGradLogits({ bonus, sequences, logits: outputs.logits.dataSync() as Float32Array, steps: length - 1, vocabularySize });
          return tf.add(surrogate, tf.sum(tf.mul(tf.tensor2d(gradLogits, outputs.logits.shape), outputs.logits))) as tf.Scalar;
        });
        const surrogate = value.dataSync()[0] ?? 0;
        const names = Object.keys(grads);
        const norm = tf.sqrt(tf.addN(names.map((name) => tf.sum(tf.square(grads[name] as tf.Tensor)))));
        const normValue = norm.dataSync()[0] ?? 0;
        const scale = maxGradNorm > 0 && normValue > maxGradNorm ? maxGradNorm / normValue : 1;
        optimizer.applyGradients(Object.fromEntries(names.map((name) => [name, tf.mul(grads[name] as tf.Tensor, scale)])));
        return { gradNorm: normValue, surrogate };
      });
    },

    async saveState(): Promise<PolicyState> {
      const weights: PolicyState['weights'] = {};
      for (const name of PARAMETER_NAMES) {
        const variable = p[name];
        weights[name] = { shape: variable.shape.slice(), values: Array.from(await variable.data()) };
      }
      const optimizerState: PolicyState['optimizer'] = {};
      for (const { name, tensor } of await optimizer.getWeights()) {
        optimizerState[name] = { shape: tensor.shape.slice(), values: Array.from(await tensor.data()) };
      }
      // Adam's bias-correction accumulators: setWeights recomputes them with pow(), which may
      // differ in the last bit from the running product, so exact resume stores them too
      const adam = optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
      if (adam.accBeta1 && adam.accBeta2) {
        optimizerState.__accBeta1 = { shape: [], values: Array.from(await adam.accBeta1.data()) };
        optimizerState.__accBeta2 = { shape: [], values: Array.from(await adam.accBeta2.data()) };
      }
      return { modelId, weights, optimizer: optimizerState };
    },

    async loadState(state: PolicyState): Promise<void> {
      if (state.modelId !== modelId) {
        throw new AipoError({ code: 'CORRUPT_STATE', message: `state is for ${state.modelId}, this policy is ${modelId}` });
      }
      for (const name of PARAMETER_NAMES) {
        const saved = state.weights[name];
        const variable = p[name];
        if (saved === undefined || saved.shape.join() !== variable.shape.join()) {
          throw new AipoError({ code: 'CORRUPT_STATE', message: `parameter ${name} is missing or has the wrong shape` });
        }
        variable.assign(tf.tensor(saved.values, saved.shape));
      }
      const { __accBeta1: beta1, __accBeta2: beta2, ...slots } = state.optimizer;
      const named = Object.entries(slots).map(([name, { shape, values }]) => ({ name, tensor: tf.tensor(values, shape) }));
      if (named.length > 0) await optimizer.setWeights(named);
      const adam = optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
      if (beta1 && beta2 && adam.accBeta1 && adam.accBeta2) {
        adam.accBeta1.assign(tf.scalar(beta1.values[0] ?? 0));
        adam.accBeta2.assign(tf.scalar(beta2.values[0] ?? 0));
      }
    },

    async clone() {
      const copies = {} as Record<ParameterName, tf.Variable>;
      for (const name of PARAMETER_NAMES) copies[name] = tf.variable(p[name].clone(), true);
      return buildPolicy({ parameters: copies, hiddenSize, vocabularySize, maxGradNorm, modelId });
    },

    dispose() {
      for (const name of PARAMETER_NAMES) p[name].dispose();
      optimizer.dispose();
    },
  };
  return policy;
}

/** ∂(−c·agg H)/∂logits on the [B·(T−1), V] grid of `forward`, via core's `entropyBonus`. */
function entropyGradLogits(options: { bonus: EntropyBonusRequest; sequences: TokenSequence[]; logits: Float32Array; steps: number; vocabularySize: number }): Float32Array {
  const { bonus, sequences, logits, steps, vocabularySize } = options;
  const mask = new Uint8Array(sequences.length * steps);
  sequences.forEach((sequence, row) => {
    const rowMask = bonus.mask[row];
    if (rowMask === undefined || rowMask.length !== sequence.response.length) {
      throw new AipoError({ code: 'SHAPE_MISMATCH', message: `entropy mask of sequence ${row} must have one entry per response token` });
    }
    // position j predicts token j+1, so response token t is produced at prompt.length − 1 + t
    rowMask.forEach((value, t) => {
      mask[row * steps + sequence.prompt.length - 1 + t] = value === 0 ? 0 : 1;
    });
  });
  return entropyBonus({
    logits,
    vocabSize: vocabularySize,
    mask,
    batchSize: sequences.length,
    sequenceLength: steps,
    coefficient: bonus.coefficient,
    aggregation: { mode: bonus.aggregation, normConstant: bonus.normConstant },
  }).gradLogits;
}
