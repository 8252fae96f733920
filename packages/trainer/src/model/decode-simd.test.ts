import { AipoError } from '@aipo/core';
import { describe, expect, it } from 'vitest';
import { createDecodeArena } from './decode-simd';

describe('decode SIMD kernels', () => {
  // relaxedSimd: the fused multiply-add variant (the default where the engine has it) and mul + add
  it.each([true, false])('compute dot products and weighted sums over strided positions like plain loops, across memory growth (relaxed SIMD %s)', (relaxedSimd) => {
    const arena = createDecodeArena({ relaxedSimd });
    expect(arena.relaxedSimd).toBe(relaxedSimd);
    expect(arena.kernels).toBeDefined();
    const kernels = arena.kernels!;
    const hd = 32;
    const capacity = 32; // keys transposed: [hd, capacity]
    const stride = 40; // values: floats between positions (other heads in between)
    const S = 19;
    const q = arena.allocate(hd);
    const kT = arena.allocate(hd * capacity);
    const v = arena.allocate(S * stride);
    const out = arena.allocate(capacity);
    const big = arena.allocate(300_000); // grows the memory: earlier indices stay valid
    let heap = arena.heap();
    expect(heap.length).toBeGreaterThan(big + 300_000 - 1);
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647 - 0.5;
    };
    for (let i = 0; i < hd; i++) heap[q + i] = random();
    for (let i = 0; i < hd * capacity; i++) heap[kT + i] = random();
    for (let i = 0; i < S * stride; i++) heap[v + i] = random();
    kernels.dots(q * 4, kT * 4, Math.ceil(S / 16), capacity * 4, hd, out * 4);
    heap = arena.heap();
    for (let s = 0; s < capacity; s++) {
      let dot = 0;
      for (let i = 0; i < hd; i++) dot += heap[q + i]! * heap[kT + i * capacity + s]!;
      expect(Math.abs(heap[out + s]! - dot)).toBeLessThan(1e-5);
    }
    // both weighted-sum kernels: four 4-float accumulators (hd multiple of 16) and one (any multiple of 4)
    for (const [kernel, width] of [
      [kernels.axpys16, hd],
      [kernels.axpys, 12],
    ] as const) {
      const weighted = arena.allocate(width);
      kernel(out * 4, v * 4, S, stride * 4, width * 4, weighted * 4);
      for (let i = 0; i < width; i++) {
        let sum = 0;
        for (let s = 0; s < S; s++) sum += heap[out + s]! * heap[v + s * stride + i]!;
        expect(Math.abs(heap[weighted + i]! - sum)).toBeLessThan(1e-5);
      }
    }
    // softmax in place over 7 real values; the 8th lane is padding (−Infinity)
    const logits = [3.5, -2, 0.25, 10, 9.75, -80, 1];
    heap = arena.heap();
    logits.forEach((value, i) => (heap[out + i] = value));
    heap[out + 7] = -Infinity;
    kernels.softmax(out * 4, 2);
    const max = Math.max(...logits);
    const total = logits.reduce((sum, value) => sum + Math.exp(value - max), 0);
    logits.forEach((value, i) => expect(Math.abs(heap[out + i]! - Math.exp(value - max) / total)).toBeLessThan(1e-6));
    expect(heap[out + 7]!).toBeLessThan(1e-30);
    // SwiGLU's silu(gate) · up, including saturated gates
    const gates = [-100, -3, -0.5, 0, 0.25, 2, 40, 100];
    const ups = [1, 2, -1, 3, 0.5, -2, 1.5, 1];
    const g = arena.allocate(8);
    const u = arena.allocate(8);
    const silu = arena.allocate(8);
    heap = arena.heap();
    gates.forEach((value, i) => (heap[g + i] = value));
    ups.forEach((value, i) => (heap[u + i] = value));
    kernels.silu(g * 4, u * 4, silu * 4, 2);
    gates.forEach((gate, i) => {
      const expected = (gate / (1 + Math.exp(-gate))) * ups[i]!;
      expect(Math.abs(heap[silu + i]! - expected)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(expected)));
    });
    // a whole token: 4 query heads over 2 kv heads (GQA), transposed keys, against plain loops
    const heads = 4;
    const kvHeads = 2;
    const positions = 21;
    const cap = 32;
    const kvRow = kvHeads * hd;
    const queries = arena.allocate(heads * hd);
    const keys = arena.allocate(kvHeads * hd * cap);
    const values = arena.allocate(cap * kvRow);
    const scratch = arena.allocate(cap);
    const attended = arena.allocate(heads * hd);
    heap = arena.heap();
    for (let i = 0; i < heads * hd; i++) heap[queries + i] = random();
    for (let i = 0; i < kvHeads * hd * cap; i++) heap[keys + i] = random();
    for (let i = 0; i < cap * kvRow; i++) heap[values + i] = random();
    for (const wide of [1, 0]) {
      kernels.attend(queries * 4, keys * 4, values * 4, positions, cap, hd, heads, heads / kvHeads, kvRow, wide, scratch * 4, attended * 4);
      for (let head = 0; head < heads; head++) {
        const kv = Math.floor(head / (heads / kvHeads));
        const logits = Array.from({ length: positions }, (_, s) => {
          let dot = 0;
          for (let i = 0; i < hd; i++) dot += heap[queries + head * hd + i]! * heap[keys + kv * hd * cap + i * cap + s]!;
          return dot;
        });
        const max = Math.max(...logits);
        const weights = logits.map((logit) => Math.exp(logit - max));
        const total = weights.reduce((sum, w) => sum + w, 0);
        for (let i = 0; i < hd; i++) {
          const expected = weights.reduce((sum, w, s) => sum + (w / total) * heap[values + s * kvRow + kv * hd + i]!, 0);
          expect(Math.abs(heap[attended + head * hd + i]! - expected)).toBeLessThan(1e-5);
        }
      }
    }
    arena.free(q, hd);
    expect(arena.allocate(hd)).toBe(q); // a freed block of the same size is reused, zeroed
    expect(arena.heap()[q]).toBe(0);
  });
});

describe('decode arena memory', () => {
  it('refuses a block past the 4 GiB of a wasm32 memory with a typed error, and stays usable', () => {
    const arena = createDecodeArena({ simd: false });
    const before = arena.heap().length;
    let caught: unknown;
    try {
      arena.allocate(1.5 * 2 ** 30); // 6 GiB of floats
    } catch (error) {
      caught = error;
    }
    expect(AipoError.isInstance(caught) && caught.code).toBe('INVALID_ARGUMENT');
    expect(arena.heap().length).toBe(before);
    const block = arena.allocate(8);
    expect(block + 8).toBeLessThanOrEqual(arena.heap().length);
  });
});

describe('decode arena matmul', () => {
  // odd shapes: one row, rows that are not a multiple of the 4-row tile, depths and widths that are
  // not multiples of 4 or 8 (the SIMD kernel's 8-column tiles plus the JS tail), a width below 8
  const shapes: Array<[number, number, number]> = [
    [1, 1, 1],
    [1, 7, 13],
    [1, 128, 512],
    [3, 5, 8],
    [5, 17, 24],
    [7, 3, 7],
    [16, 128, 384],
    [18, 33, 41],
  ];
  const paths = [
    { name: 'simd', options: { native: false } },
    { name: 'simd', options: { native: false, relaxedSimd: false } },
    { name: 'js', options: { simd: false, native: false } },
    { name: 'native', options: {} },
  ] as const;
  it.each(paths)('$name path ($options) equals a plain triple loop on odd shapes', ({ name, options }) => {
    const arena = createDecodeArena(options);
    // Node ≥ 22's V8 validates relaxed SIMD: the fused multiply-add variant is the default
    expect(arena.relaxedSimd).toBe(name !== 'js' && !('relaxedSimd' in options));
    if (name === 'native' && arena.matmulPath !== 'native') {
      process.stderr.write('decode arena matmul: native case skipped (the optional addon is not built)\n');
      return;
    }
    expect(arena.matmulPath).toBe(name);
    let seed = 7;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647 - 0.5;
    };
    for (const [m, k, n] of shapes) {
      const a = arena.allocate(m * k);
      const b = arena.allocate(k * n);
      // the output sits between guard floats that must stay untouched
      const c = arena.allocate(m * n + 8);
      const heap = arena.heap();
      for (let i = 0; i < m * k; i++) heap[a + i] = random();
      for (let i = 0; i < k * n; i++) heap[b + i] = random();
      heap.fill(123, c, c + m * n + 8);
      arena.matmul({ a, b, c: c + 4, m, k, n });
      const label = `${m}x${k}x${n}`;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let sum = 0;
          for (let p = 0; p < k; p++) sum += heap[a + i * k + p]! * heap[b + p * n + j]!;
          expect(Math.abs(heap[c + 4 + i * n + j]! - sum), `${label} [${i}, ${j}]`).toBeLessThan(1e-5);
        }
      }
      expect([...heap.subarray(c, c + 4), ...heap.subarray(c + 4 + m * n, c + 8 + m * n)], label).toEqual(new Array(8).fill(123));
    }
  });
});
