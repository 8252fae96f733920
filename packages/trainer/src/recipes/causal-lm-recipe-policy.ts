import * as tf from '@tensorflow/tfjs';
import { AipoError, entropyBonus } from '@aipo/core';
import type { CausalLM } from '../model/causal-lm';
import { computeLogProbs } from '../model/pack-sequences';
import { saveModel } from '../model/save-model';
import { createTokenPolicy } from '../policy/token-policy';
import type { TextTokenizer } from '../tokenizer/load-tokenizer';
import { createTrainer, type Trainer } from '../train/trainer';
import type { PolicyState, RecipePolicy, SampledSequence, SampleRequest, SequenceScores, TokenSequence } from './recipe-policy';

export interface CausalLmRecipePolicyOptions {
  /** a trainable model: `loadModel(dir)` (Llama, Qwen2 or GPT-2 from a HF folder; `loadPolicy` loads inference-only weights) */
  model: CausalLM;
  /** its tokenizer */
  tokenizer: TextTokenizer;
  /** reported as `modelId` */
  modelId?: string;
  /** rows per forward/backward pass (gradients accumulate exactly); default the whole batch */
  microBatchSize?: number;
  /** global-norm gradient clip (default 1.0) */
  maxGradNorm?: number;
  /** trainer seed */
  seed?: number;
}

/**
 * The recipes' `RecipePolicy` over the trainer's `CausalLM` (any checkpoint `loadPolicy` reads):
 * sampling through the KV-cache `TokenPolicy` (concurrent calls are batched by its scheduler),
 * scoring with `computeLogProbs`, and steps through the trainer's `Trainer` with the recipe's
 * per-token weights as `gradLogProbs`. Entropy is reported as the mean surprisal −log π of the
 * scored tokens (an unbiased estimate for on-policy tokens), which avoids materialising [B,T,V]
 * logits for a real vocabulary.
 */
export function createCausalLmRecipePolicy(options: CausalLmRecipePolicyOptions): RecipePolicy {
  const { model, tokenizer, microBatchSize, maxGradNorm = 1, seed = 0 } = options;
  const modelId = options.modelId ?? model.config.modelType;
  const eos = [...new Set([...model.config.eosTokenIds, ...tokenizer.eosTokenIds])];
  const endTokenId = eos[0];
  if (endTokenId === undefined) {
    throw new AipoError({ code: 'INVALID_CONFIG', message: `${modelId} has no end-of-sequence token (config.json eos_token_id or tokenizer_config.json eos_token)` });
  }
  let learningRate = 0;
  const trainer: Trainer = createTrainer({
    model,
    learningRate: () => learningRate,
    maxGradNorm,
    seed,
    ...(microBatchSize === undefined ? {} : { microBatchSize }),
  });
  const tokenPolicy = createTokenPolicy({ model, tokenizer, modelId });

  const score = async (sequences: TokenSequence[]): Promise<SequenceScores> => {
    if (sequences.length === 0) return { logProbs: [], entropies: [] };
    const width = Math.max(...sequences.map((sequence) => sequence.response.length));
    const values = await computeLogProbs(model, { prompts: sequences.map((sequence) => sequence.prompt), responses: sequences.map((sequence) => sequence.response) });
    const logProbs = sequences.map((sequence, row) => values.slice(row * width, row * width + sequence.response.length));
    return { logProbs, entropies: logProbs.map((row) => row.map((value) => -value)) };
  };

  return {
    modelId,
    endTokenId,
    encode: (text) => tokenizer.encode(text),
    decode: (tokenIds) => tokenizer.decode(tokenIds),

    async sample({ contexts, maxTokens, temperature, stop, rng }: SampleRequest): Promise<SampledSequence[]> {
      // seeds are drawn in row order before any call, so results do not depend on scheduling
      const seeds = contexts.map(() => rng.nextUint32());
      return Promise.all(
        contexts.map(async (context, row) => {
          const output = await tokenPolicy.generate({ context, maxTokens, temperature, ...(stop ? { stop } : {}), seed: seeds[row] });
          return { tokenIds: output.tokenIds, logProbs: output.logProbs, text: output.text, finishReason: output.finishReason, ...(output.stop ? { stop: output.stop } : {}) };
        }),
      );
    },

    score,

    // the trainer hands the response logits to the callback when asked, and takes ∂L/∂logits back
    supportsEntropyBonus: true,

    async trainStep({ sequences, weights, learningRate: rate, entropyBonus: bonus }) {
      if (weights.length !== sequences.length) {
        throw new AipoError({ code: 'SHAPE_MISMATCH', message: `got ${weights.length} weight rows for ${sequences.length} sequences` });
      }
      if (sequences.length === 0) return { gradNorm: 0, surrogate: 0 };
      learningRate = rate;
      const width = Math.max(...sequences.map((sequence) => sequence.response.length));
      const grid = new Float32Array(sequences.length * width);
      for (const [index, row] of weights.entries()) grid.set(row, index * width);
      const withBonus = bonus !== undefined && bonus.coefficient > 0;
      const bonusMask = new Uint8Array(withBonus ? sequences.length * width : 0);
      if (withBonus) {
        sequences.forEach((sequence, row) => {
          const rowMask = bonus.mask[row];
          if (rowMask === undefined || rowMask.length !== sequence.response.length) {
            throw new AipoError({ code: 'SHAPE_MISMATCH', message: `entropy mask of sequence ${row} must have one entry per response token` });
          }
          rowMask.forEach((value, t) => {
            bonusMask[row * width + t] = value === 0 ? 0 : 1;
          });
        });
      }
      // global counts keep the bonus's aggregation exact across micro-batches
      const globalTokenCount = bonusMask.reduce((sum, value) => sum + value, 0);
      const globalSequenceCount = sequences.filter((_, row) => bonusMask.subarray(row * width, (row + 1) * width).some((value) => value !== 0)).length;
      const metrics = await trainer.step({
        batch: { prompts: sequences.map((sequence) => sequence.prompt), responses: sequences.map((sequence) => sequence.response) },
        needsLogits: withBonus,
        lossWeights: ({ rows, logProbs, logits }) => {
          const gradLogProbs = grid.slice(rows.start * width, rows.end * width);
          let loss = 0;
          for (let index = 0; index < gradLogProbs.length; index += 1) loss += (gradLogProbs[index] ?? 0) * (logProbs[index] ?? 0);
          if (!withBonus || logits === undefined) return { gradLogProbs, loss };
          // core's exact entropy gradient through the logits (the same call the GRU policy makes)
          const entropy = entropyBonus({
            logits,
            vocabSize: model.config.vocabSize,
            mask: bonusMask.slice(rows.start * width, rows.end * width),
            batchSize: rows.end - rows.start,
            sequenceLength: width,
            coefficient: bonus.coefficient,
            aggregation: { mode: bonus.aggregation, normConstant: bonus.normConstant, globalTokenCount, globalSequenceCount },
          });
          return { gradLogProbs, gradLogits: entropy.gradLogits, loss: loss + entropy.value };
        },
      });
      return { gradNorm: metrics.gradNorm, surrogate: metrics.loss };
    },

    async saveState(): Promise<PolicyState> {
      const weights: PolicyState['weights'] = {};
      for (const [name, variable] of model.params) weights[name] = { shape: variable.shape.slice(), values: Array.from(await variable.data()) };
      const optimizer: PolicyState['optimizer'] = { __step: { shape: [], values: [trainer.optimizer.step] } };
      for (const [name, { m, v }] of trainer.optimizer.moments) {
        optimizer[`m.${name}`] = { shape: m.shape.slice(), values: Array.from(await m.data()) };
        optimizer[`v.${name}`] = { shape: v.shape.slice(), values: Array.from(await v.data()) };
      }
      return { modelId, weights, optimizer };
    },

    async loadState(state: PolicyState): Promise<void> {
      if (state.modelId !== modelId) throw new AipoError({ code: 'CORRUPT_STATE', message: `state is for ${state.modelId}, this policy is ${modelId}` });
      // params are in the model's own layout (saveState wrote them from there), so assign directly
      for (const [name, variable] of model.params) {
        const saved = state.weights[name];
        if (saved === undefined || saved.shape.join() !== variable.shape.join()) {
          throw new AipoError({ code: 'CORRUPT_STATE', message: `parameter ${name} is missing or has the wrong shape` });
        }
        variable.assign(tf.tensor(saved.values, saved.shape, 'float32'));
      }
      model.markWeightsChanged();
      for (const [name, { m, v }] of trainer.optimizer.moments) {
        const savedM = state.optimizer[`m.${name}`];
        const savedV = state.optimizer[`v.${name}`];
        if (savedM === undefined || savedV === undefined) throw new AipoError({ code: 'CORRUPT_STATE', message: `optimizer state for ${name} is missing` });
        m.assign(tf.tensor(savedM.values, m.shape, 'float32'));
        v.assign(tf.tensor(savedV.values, v.shape, 'float32'));
      }
      trainer.optimizer.step = state.optimizer.__step?.values[0] ?? 0;
    },

    async exportHfFolder(dir: string) {
      // the trained weights in the checkpoint's own architecture and layout, with its tokenizer
      await saveModel({ model, dir, tokenizer });
    },

    async clone() {
      throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'a CausalLM policy cannot clone itself; load a second model and pass it as the peer' });
    },

    dispose() {
      tokenPolicy.dispose();
      model.dispose();
    },
  };
}
