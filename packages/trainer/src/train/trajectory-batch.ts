import { AipoError, assertLength } from '@aipo/core';

/**
 * A batch of trajectories in core's `[B, T]` layout (row-major, T = longest response). Prompts and
 * responses are token ids; the optional arrays are passed through to the loss-weights callback.
 */
export interface TrajectoryBatch {
  /** [B] prompt token ids (≥ 1 token each) */
  prompts: readonly (readonly number[])[];
  /** [B] response token ids (policy, off-policy trace or agent-inserted tokens) */
  responses: readonly (readonly number[])[];
  /** [B,T] 1 = token enters the loss (default: every real response token) */
  lossMask?: Uint8Array;
  /** [B,T] core TokenSource per token (policy / offPolicy / agent) */
  sourceMask?: Uint8Array;
  /** [B] scalar rewards */
  rewards?: Float32Array;
  /** [B,T] log-probs of the sampling policy */
  oldLogProbs?: Float32Array;
  /** [B] group ids (GRPO groups) */
  groupIds?: Int32Array;
}

/** T: the longest response. */
export function responseLength(batch: TrajectoryBatch): number {
  return batch.responses.reduce((max, response) => Math.max(max, response.length), 0);
}

/** The loss mask, defaulting to every real response token. */
export function lossMaskOf(batch: TrajectoryBatch): Uint8Array {
  const B = batch.responses.length;
  const T = responseLength(batch);
  if (batch.lossMask !== undefined) return batch.lossMask;
  const mask = new Uint8Array(B * T);
  batch.responses.forEach((response, b) => mask.fill(1, b * T, b * T + response.length));
  return mask;
}

/** Check that every array agrees with the `[B, T]` shape. */
export function assertTrajectoryBatch(batch: TrajectoryBatch): void {
  const B = batch.prompts.length;
  if (batch.responses.length !== B) throw new AipoError({ code: 'SHAPE_MISMATCH', message: `${B} prompts but ${batch.responses.length} responses` });
  if (B === 0) throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'empty batch' });
  const T = responseLength(batch);
  assertLength('lossMask', batch.lossMask, B * T);
  assertLength('sourceMask', batch.sourceMask, B * T);
  assertLength('oldLogProbs', batch.oldLogProbs, B * T);
  assertLength('rewards', batch.rewards, B);
  assertLength('groupIds', batch.groupIds, B);
}
