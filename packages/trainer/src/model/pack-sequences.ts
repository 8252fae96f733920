import * as tf from '@tensorflow/tfjs';
import { AipoError } from '@aipo/core';
import type { CausalLM } from './causal-lm';
import { buildAttentionMask } from './attention-mask';
import { tokenLogProbs } from './token-log-probs';

/** prompt + response token rows, right-padded for teacher forcing. */
export interface PackedSequences {
  /** B */
  batchSize: number;
  /** L: input length (longest prompt + response, minus one) */
  inputLength: number;
  /** T: longest response (columns of the [B, T] response arrays core uses) */
  responseLength: number;
  /** [B, L] input ids (0 past the end) */
  inputs: Int32Array;
  /** [B, L] next-token targets (0 past the end) */
  targets: Int32Array;
  /** [B, L] 1 where inputs hold a real token */
  valid: Uint8Array;
  /** [B] prompt lengths */
  promptLengths: number[];
  /** [B] response lengths */
  responseLengths: number[];
}

export interface SequencesInput {
  /** per row: prompt token ids (at least one token: the first response token needs a context) */
  prompts: readonly (readonly number[])[];
  /** per row: response token ids (the tokens log-probs are reported for) */
  responses: readonly (readonly number[])[];
}

/** Pack rows so response token t of row b is predicted at input position P_b − 1 + t. */
export function packSequences({ prompts, responses }: SequencesInput, vocabSize: number): PackedSequences {
  if (prompts.length !== responses.length) {
    throw new AipoError({ code: 'SHAPE_MISMATCH', message: `${prompts.length} prompts but ${responses.length} responses` });
  }
  const B = prompts.length;
  if (B === 0) throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'empty batch' });
  let L = 1;
  let T = 0;
  for (let b = 0; b < B; b++) {
    const prompt = prompts[b]!;
    const response = responses[b]!;
    if (prompt.length === 0) throw new AipoError({ code: 'INVALID_ARGUMENT', message: `row ${b}: prompt is empty (needs at least one token, e.g. BOS)` });
    for (const id of [...prompt, ...response]) {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
        throw new AipoError({ code: 'INVALID_ARGUMENT', message: `row ${b}: token id ${id} is outside the vocabulary [0, ${vocabSize})`, details: { row: b, id } });
      }
    }
    L = Math.max(L, prompt.length + response.length - 1);
    T = Math.max(T, response.length);
  }
  const inputs = new Int32Array(B * L);
  const targets = new Int32Array(B * L);
  const valid = new Uint8Array(B * L);
  for (let b = 0; b < B; b++) {
    const sequence = [...prompts[b]!, ...responses[b]!];
    for (let i = 0; i < sequence.length - 1; i++) {
      inputs[b * L + i] = sequence[i]!;
      targets[b * L + i] = sequence[i + 1]!;
      valid[b * L + i] = 1;
    }
    if (sequence.length === 1) {
      inputs[b * L] = sequence[0]!;
      valid[b * L] = 1;
    }
  }
  return {
    batchSize: B,
    inputLength: L,
    responseLength: T,
    inputs,
    targets,
    valid,
    promptLengths: prompts.map((p) => p.length),
    responseLengths: responses.map((r) => r.length),
  };
}

/** Forward the packed rows; returns `[B, L, V]` logits and `[B, L]` target log-probs (call in tidy). */
export function forwardPacked(model: CausalLM, packed: PackedSequences): { logits: tf.Tensor3D; logProbs: tf.Tensor2D } {
  const { batchSize: B, inputLength: L } = packed;
  const positions = new Int32Array(B * L);
  for (let b = 0; b < B; b++) for (let i = 0; i < L; i++) positions[b * L + i] = i;
  if (L > model.config.maxPositions) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `sequence length ${L} exceeds the model's ${model.config.maxPositions} positions` });
  }
  // Right padding: real tokens never attend to later pads under the causal mask, so every row
  // just uses the causal mask.
  const { logits } = model.forward({
    tokens: tf.tensor2d(packed.inputs, [B, L], 'int32'),
    positions: tf.tensor2d(positions, [B, L], 'int32'),
    mask: buildAttentionMask({ batchSize: B, queryLength: L, keyLength: L, keyValid: new Uint8Array(B * L).fill(1) }),
  });
  const V = model.config.vocabSize;
  const logProbs = tokenLogProbs(logits.reshape([B * L, V]), tf.tensor1d(packed.targets, 'int32')).reshape([B, L]) as tf.Tensor2D;
  return { logits, logProbs };
}

/** Gather `[B, L]` position values into the `[B, T]` response layout (0 in padding). */
export function toResponseLayout(packed: PackedSequences, values: Float32Array): Float32Array {
  const { batchSize: B, inputLength: L, responseLength: T } = packed;
  const out = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    const offset = packed.promptLengths[b]! - 1;
    for (let t = 0; t < packed.responseLengths[b]!; t++) out[b * T + t] = values[b * L + offset + t]!;
  }
  return out;
}

/** Scatter `[B, T]` response values to `[B, L]` positions (0 elsewhere). */
export function fromResponseLayout(packed: PackedSequences, values: Float32Array, width = 1): Float32Array {
  const { batchSize: B, inputLength: L, responseLength: T } = packed;
  const out = new Float32Array(B * L * width);
  for (let b = 0; b < B; b++) {
    const offset = packed.promptLengths[b]! - 1;
    for (let t = 0; t < packed.responseLengths[b]!; t++) {
      out.set(values.subarray((b * T + t) * width, (b * T + t + 1) * width), (b * L + offset + t) * width);
    }
  }
  return out;
}

/**
 * Per-token log-probs `[B, T]` (row-major, 0 in padding) of each response given its prompt: the
 * numbers core's losses take as `logProbs` / `oldLogProbs` / `refLogProbs`.
 */
export async function computeLogProbs(model: CausalLM, input: SequencesInput): Promise<Float32Array> {
  const packed = packSequences(input, model.config.vocabSize);
  const logProbs = tf.tidy(() => forwardPacked(model, packed).logProbs);
  const values = (await logProbs.data()) as Float32Array;
  logProbs.dispose();
  return toResponseLayout(packed, values);
}

/** Logits `[B, L, V]` for equal-length token rows (every position), for tests and analysis. */
export async function computeLogits(model: CausalLM, tokens: readonly (readonly number[])[]): Promise<Float32Array> {
  const B = tokens.length;
  const L = tokens[0]?.length ?? 0;
  if (B === 0 || L === 0 || tokens.some((row) => row.length !== L)) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'computeLogits needs a non-empty batch of equal-length rows' });
  }
  const flat = new Int32Array(B * L);
  const positions = new Int32Array(B * L);
  tokens.forEach((row, b) => row.forEach((id, i) => { flat[b * L + i] = id; positions[b * L + i] = i; }));
  const logits = tf.tidy(() =>
    model.forward({
      tokens: tf.tensor2d(flat, [B, L], 'int32'),
      positions: tf.tensor2d(positions, [B, L], 'int32'),
      mask: buildAttentionMask({ batchSize: B, queryLength: L, keyLength: L, keyValid: new Uint8Array(B * L).fill(1) }),
    }).logits,
  );
  const values = (await logits.data()) as Float32Array;
  logits.dispose();
  return values;
}
