/**
 * A small seeded PRNG (xoshiro128**, Blackman & Vigna 2018) whose whole state is four uint32s, so
 * checkpoints can store it and resume the exact stream. Seeds are expanded with splitmix32.
 */
export interface SeededRng {
  /** uniform float in [0, 1) */
  next(): number;
  /** the full generator state (copy); feed it to `createRng({ state })` to resume */
  state(): [number, number, number, number];
}

export interface CreateRngOptions {
  /** integer seed (used when no state is given) */
  seed?: number;
  /** a state previously returned by `rng.state()` */
  state?: readonly number[];
}

export function createRng({ seed = 0, state }: CreateRngOptions = {}): SeededRng {
  const s = new Uint32Array(4);
  if (state !== undefined && state.length === 4) {
    s.set(state.map((x) => x >>> 0));
  } else {
    let z = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      z = (z + 0x9e3779b9) >>> 0;
      let t = z;
      t = Math.imul(t ^ (t >>> 16), 0x21f0aaad);
      t = Math.imul(t ^ (t >>> 15), 0x735a2d97);
      s[i] = (t ^ (t >>> 15)) >>> 0;
    }
    if ((s[0]! | s[1]! | s[2]! | s[3]!) === 0) s[0] = 1;
  }
  return {
    next() {
      const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
      const t = (s[1]! << 9) >>> 0;
      s[2]! ^= s[0]!;
      s[3]! ^= s[1]!;
      s[1]! ^= s[2]!;
      s[0]! ^= s[3]!;
      s[2]! ^= t;
      s[3] = rotl(s[3]!, 11);
      return result / 4294967296;
    },
    state: () => [s[0]!, s[1]!, s[2]!, s[3]!],
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A standard normal sample (Box–Muller) from `rng`; used for seeded weight init. */
export function normalSample(rng: SeededRng): number {
  const u = Math.max(rng.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}
