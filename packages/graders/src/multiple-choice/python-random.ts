import { AipoError } from '@aipo/core';

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/**
 * CPython's `random.Random` for the parts simple-evals uses: MT19937 seeded from an int the way
 * `random.seed(int)` does, `getrandbits`, `_randbelow_with_getrandbits` and `sample`. Ports of
 * Modules/_randommodule.c (init_genrand, init_by_array, genrand_uint32, random_seed,
 * getrandbits) and Lib/random.py 3.11 (`_randbelow_with_getrandbits`, `sample`), so the same seed
 * gives the same draws as Python, bit for bit (checked against vectors generated with python3.11).
 */
export class PythonRandom {
  private readonly state = new Uint32Array(N);
  private index = N + 1;

  constructor(seed: number | bigint = 0) {
    if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
      throw new AipoError({
        code: 'INVALID_ARGUMENT',
        message: `PythonRandom seed must be a safe integer, got ${seed}`,
      });
    }
    this.seed(BigInt(seed));
  }

  /** random_seed(): the absolute value, split into 32-bit words little-endian, fed to init_by_array */
  private seed(value: bigint): void {
    let rest = value < 0n ? -value : value;
    const key: number[] = [];
    do {
      key.push(Number(rest & 0xffffffffn));
      rest >>= 32n;
    } while (rest > 0n);
    this.initByArray(key);
  }

  private initGenrand(seed: number): void {
    const mt = this.state;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const previous = (mt[i - 1] as number) ^ ((mt[i - 1] as number) >>> 30);
      mt[i] = (Math.imul(1812433253, previous) + i) >>> 0;
    }
    this.index = N;
  }

  private initByArray(key: readonly number[]): void {
    const mt = this.state;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const previous = (mt[i - 1] as number) ^ ((mt[i - 1] as number) >>> 30);
      mt[i] = (((mt[i] as number) ^ Math.imul(previous, 1664525)) + (key[j] as number) + j) >>> 0;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1] as number;
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const previous = (mt[i - 1] as number) ^ ((mt[i - 1] as number) >>> 30);
      mt[i] = (((mt[i] as number) ^ Math.imul(previous, 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1] as number;
        i = 1;
      }
    }
    mt[0] = 0x80000000; // MSB is 1, assuring a non-zero initial array
  }

  /** genrand_uint32(): the next 32-bit output of MT19937 */
  nextUint32(): number {
    const mt = this.state;
    if (this.index >= N) {
      for (let k = 0; k < N; k++) {
        const y = ((mt[k] as number) & UPPER_MASK) | ((mt[(k + 1) % N] as number) & LOWER_MASK);
        mt[k] = (mt[(k + M) % N] as number) ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      this.index = 0;
    }
    let y = mt[this.index++] as number;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** getrandbits(k): k ≤ 32 takes the top bits of one word; wider values are words little-endian */
  getrandbits(k: number): bigint {
    if (!Number.isInteger(k) || k < 0) {
      throw new AipoError({ code: 'INVALID_ARGUMENT', message: `getrandbits needs a non-negative integer, got ${k}` });
    }
    if (k === 0) return 0n;
    if (k <= 32) return BigInt(this.nextUint32() >>> (32 - k));
    let result = 0n;
    for (let word = 0, left = k; left > 0; word++, left -= 32) {
      let r = this.nextUint32();
      if (left < 32) r >>>= 32 - left; // drop the least significant bits
      result |= BigInt(r) << BigInt(32 * word);
    }
    return result;
  }

  /** _randbelow_with_getrandbits(n): rejection sampling on n.bit_length() bits, 0 ≤ r < n */
  randbelow(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0) {
      throw new AipoError({ code: 'INVALID_ARGUMENT', message: `randbelow needs a positive safe integer, got ${n}` });
    }
    const k = n.toString(2).length;
    let r = Number(this.getrandbits(k));
    while (r >= n) r = Number(this.getrandbits(k));
    return r;
  }

  /** random.sample(population, k), Python 3.11's algorithm (a pool for small populations, a set otherwise) */
  sample<T>(population: readonly T[], k: number): T[] {
    const n = population.length;
    if (!Number.isInteger(k) || k < 0 || k > n) {
      throw new AipoError({
        code: 'INVALID_ARGUMENT',
        message: `sample larger than population or is negative (k=${k}, n=${n})`,
      });
    }
    const result: T[] = [];
    let setsize = 21; // size of a small set minus size of an empty list
    if (k > 5) setsize += 4 ** Math.ceil(Math.log(k * 3) / Math.log(4)); // table size for big sets
    if (n <= setsize) {
      // an n-length list is smaller than a k-length set
      const pool = [...population];
      for (let i = 0; i < k; i++) {
        const j = this.randbelow(n - i);
        result.push(pool[j] as T);
        pool[j] = pool[n - i - 1] as T; // move the non-selected item into the vacancy
      }
      return result;
    }
    const selected = new Set<number>();
    for (let i = 0; i < k; i++) {
      let j = this.randbelow(n);
      while (selected.has(j)) j = this.randbelow(n);
      selected.add(j);
      result.push(population[j] as T);
    }
    return result;
  }
}
