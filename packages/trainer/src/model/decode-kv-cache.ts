import { AipoError } from '@aipo/core';
import type { ModelConfig } from './model-config';
import { createDecodeArena, type CreateDecodeArenaOptions, type DecodeArena } from './decode-simd';

/**
 * Keys and values of one sequence, per layer, after RoPE: keys transposed `[H_kv, hd, capacity]`
 * (the SIMD dot products run over positions), values `[capacity, H_kv, hd]`.
 */
export interface DecodeSlot {
  /** the tokens whose keys/values are stored, in position order (slot i holds position i) */
  readonly tokens: number[];
  /** per layer: index of the keys block in `arena.heap()` */
  keys: number[];
  /** per layer: index of the values block */
  values: number[];
  /** positions the blocks can hold (a multiple of 16: the dot-product kernel runs 16 at a time) */
  capacity: number;
  /** released slots must not be used again */
  released: boolean;
}

/**
 * KV storage for token-by-token decoding: one preallocated block per sequence and layer, written
 * in place at the token's position (no concat and no copy of the past per step, as the generic
 * forward does). Blocks double when full, up to the model's positions. A slot outlives the
 * request that filled it, so a paused sequence resumes without re-reading its context. The blocks
 * live in one wasm memory, with the decode weights and activations, so the kernels read them
 * where they are.
 */
export class DecodeKvCache {
  readonly arena: DecodeArena;
  /** scratch: the attention scores of one head */
  readonly scratch: { scores: number };
  private readonly rowSize: number;
  private readonly config: ModelConfig;

  constructor(config: ModelConfig, options: CreateDecodeArenaOptions = {}) {
    this.config = config;
    this.rowSize = config.numKvHeads * config.headDim;
    this.arena = createDecodeArena(options);
    this.scratch = {
      scores: this.arena.allocate(roundUp16(config.maxPositions)),
    };
  }

  /** An empty slot with room for `positions` tokens. */
  createSlot(positions = 16): DecodeSlot {
    const capacity = roundUp16(Math.min(this.config.maxPositions, Math.max(1, positions)));
    const size = capacity * this.rowSize;
    const blocks: number[] = [];
    try {
      for (let i = 0; i < 2 * this.config.numLayers; i++) blocks.push(this.arena.allocate(size));
    } catch (error) {
      // the memory is full: give back what this slot took before failing
      for (const index of blocks) this.arena.free(index, size);
      throw error;
    }
    return { tokens: [], keys: blocks.slice(0, this.config.numLayers), values: blocks.slice(this.config.numLayers), capacity, released: false };
  }

  /** Make room for positions `< positions` (doubling, so appends cost O(1) amortised). */
  reserve(slot: DecodeSlot, positions: number): void {
    if (slot.released) throw new AipoError({ code: 'INTERNAL', message: 'decode slot was released' });
    if (positions > this.config.maxPositions) {
      throw new AipoError({ code: 'INVALID_ARGUMENT', message: `sequence needs ${positions} positions, the model supports ${this.config.maxPositions}` });
    }
    if (positions <= slot.capacity) return;
    const capacity = roundUp16(Math.min(this.config.maxPositions, Math.max(positions, slot.capacity * 2)));
    const old = slot.capacity;
    const oldSize = old * this.rowSize;
    const growValues = (block: number) => {
      const next = this.arena.allocate(capacity * this.rowSize);
      this.arena.heap().copyWithin(next, block, block + oldSize);
      this.arena.free(block, oldSize);
      return next;
    };
    // transposed keys: each of the H_kv·hd rows moves to its wider place
    const growKeys = (block: number) => {
      const next = this.arena.allocate(capacity * this.rowSize);
      const heap = this.arena.heap();
      for (let row = 0; row < this.rowSize; row++) heap.copyWithin(next + row * capacity, block + row * old, block + row * old + old);
      this.arena.free(block, oldSize);
      return next;
    };
    slot.keys = slot.keys.map(growKeys);
    slot.values = slot.values.map(growValues);
    slot.capacity = capacity;
  }

  /** Copy the first `length` positions of `from` into `to` (which holds nothing yet). */
  copyPrefix({ from, to, length }: { from: DecodeSlot; to: DecodeSlot; length: number }): void {
    if (length > from.tokens.length) throw new AipoError({ code: 'INTERNAL', message: `cannot copy ${length} positions from a slot holding ${from.tokens.length}` });
    this.reserve(to, length);
    const heap = this.arena.heap();
    for (let layer = 0; layer < this.config.numLayers; layer++) {
      // transposed keys: each of the H_kv·hd rows has its own stride (the slots' capacities)
      for (let row = 0; row < this.rowSize; row++) {
        const source = from.keys[layer]! + row * from.capacity;
        heap.copyWithin(to.keys[layer]! + row * to.capacity, source, source + length);
      }
      heap.copyWithin(to.values[layer]!, from.values[layer]!, from.values[layer]! + length * this.rowSize);
    }
    to.tokens.length = length;
    for (let i = 0; i < length; i++) to.tokens[i] = from.tokens[i]!;
  }

  /** Forget everything after `length` tokens (the blocks are reused). */
  truncate(slot: DecodeSlot, length: number): void {
    slot.tokens.length = Math.min(slot.tokens.length, length);
  }

  /** Bytes of storage a slot holds. */
  bytesOf(slot: DecodeSlot): number {
    return slot.released ? 0 : 2 * this.config.numLayers * slot.capacity * this.rowSize * 4;
  }

  /** Return a slot's blocks to the arena. */
  release(slot: DecodeSlot): void {
    if (slot.released) return;
    slot.released = true;
    const size = slot.capacity * this.rowSize;
    for (const index of [...slot.keys, ...slot.values]) this.arena.free(index, size);
  }
}

/** Length of the longest common prefix of two token lists. */
export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

function roundUp16(n: number): number {
  return Math.ceil(n / 16) * 16;
}
