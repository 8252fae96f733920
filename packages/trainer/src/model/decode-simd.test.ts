import { describe, expect, it } from 'vitest';
import { createDecodeArena } from './decode-simd';

describe('decode SIMD kernels', () => {
  it('compute dot products and weighted sums over strided positions like plain loops, across memory growth', () => {
    const arena = createDecodeArena();
    expect(arena.kernels).toBeDefined();
    const kernels = arena.kernels!;
    const hd = 12;
    const capacity = 8; // keys transposed: [hd, capacity]
    const stride = 20; // values: floats between positions (other heads in between)
    const S = 7;
    const q = arena.allocate(hd);
    const kT = arena.allocate(hd * capacity);
    const v = arena.allocate(S * stride);
    const out = arena.allocate(capacity);
    const big = arena.allocate(300_000); // grows the memory: earlier indices stay valid
    let heap = arena.heap();
    expect(heap.length).toBeGreaterThan(big + 300_000 - 1);
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5;
    for (let i = 0; i < hd; i++) heap[q + i] = random();
    for (let i = 0; i < hd * capacity; i++) heap[kT + i] = random();
    for (let i = 0; i < S * stride; i++) heap[v + i] = random();
    kernels.dots(q * 4, kT * 4, Math.ceil(S / 4), capacity * 4, hd, out * 4);
    heap = arena.heap();
    for (let s = 0; s < S; s++) {
      let dot = 0;
      for (let i = 0; i < hd; i++) dot += heap[q + i]! * heap[kT + i * capacity + s]!;
      expect(Math.abs(heap[out + s]! - dot)).toBeLessThan(1e-6);
    }
    const weighted = arena.allocate(hd);
    kernels.axpys(out * 4, v * 4, S, stride * 4, hd * 4, weighted * 4);
    for (let i = 0; i < hd; i++) {
      let sum = 0;
      for (let s = 0; s < S; s++) sum += heap[out + s]! * heap[v + s * stride + i]!;
      expect(Math.abs(heap[weighted + i]! - sum)).toBeLessThan(1e-6);
    }
    arena.free(q, hd);
    expect(arena.allocate(hd)).toBe(q); // a freed block of the same size is reused, zeroed
    expect(arena.heap()[q]).toBe(0);
  });
});
