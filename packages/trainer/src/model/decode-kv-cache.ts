import { AipoError } from '@aipo/core';
import type { ModelConfig } from './model-config';

/** Keys and values of one sequence, per layer `[capacity, H_kv, hd]`, after RoPE. */
export interface DecodeSlot {
  /** the tokens whose keys/values are stored, in position order (slot i holds position i) */
  readonly tokens: number[];
  /** per layer: keys */
  keys: Float32Array[];
  /** per layer: values */
  values: Float32Array[];
  /** positions the buffers can hold */
  capacity: number;
}

/**
 * KV storage for token-by-token decoding: one preallocated buffer per sequence and layer, written
 * in place at the token's position (no concat and no copy of the past per step, as the generic
 * forward does). Buffers double when full, up to the model's positions. A slot outlives the
 * request that filled it, so a paused sequence resumes without re-reading its context.
 */
export class DecodeKvCache {
  private readonly rowSize: number;
  private readonly config: ModelConfig;

  constructor(config: ModelConfig) {
    this.config = config;
    this.rowSize = config.numKvHeads * config.headDim;
  }

  /** An empty slot with room for `positions` tokens. */
  createSlot(positions = 16): DecodeSlot {
    const capacity = Math.min(this.config.maxPositions, Math.max(1, positions));
    const layer = () => new Float32Array(capacity * this.rowSize);
    return {
      tokens: [],
      keys: Array.from({ length: this.config.numLayers }, layer),
      values: Array.from({ length: this.config.numLayers }, layer),
      capacity,
    };
  }

  /** Make room for positions `< positions` (doubling, so appends cost O(1) amortised). */
  reserve(slot: DecodeSlot, positions: number): void {
    if (positions > this.config.maxPositions) {
      throw new AipoError({ code: 'INVALID_ARGUMENT', message: `sequence needs ${positions} positions, the model supports ${this.config.maxPositions}` });
    }
    if (positions <= slot.capacity) return;
    const capacity = Math.min(this.config.maxPositions, Math.max(positions, slot.capacity * 2));
    const grow = (old: Float32Array) => {
      const next = new Float32Array(capacity * this.rowSize);
      next.set(old);
      return next;
    };
    slot.keys = slot.keys.map(grow);
    slot.values = slot.values.map(grow);
    slot.capacity = capacity;
  }

  /** Forget everything after `length` tokens (the buffers are reused). */
  truncate(slot: DecodeSlot, length: number): void {
    slot.tokens.length = Math.min(slot.tokens.length, length);
  }
}

/** Length of the longest common prefix of two token lists. */
export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
