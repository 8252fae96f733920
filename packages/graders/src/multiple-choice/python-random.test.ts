import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PythonRandom } from './python-random';
import { shuffleChoices, simpleEvalsPermutations } from './shuffle-choices';

// Generated once with python3.11 by scripts/python-random-golden.py (tests never call Python).
interface Golden {
  python: string;
  gpqaDiamondRepeats4: number[][];
  numExamples50: { subset: number[]; permutations: number[][] };
  seeds: Array<{
    seed: string;
    uint32: number[];
    bits: Array<[number, string]>;
    randbelow: number[];
    sampleSmall: number[];
    sampleLarge: number[];
  }>;
}
const golden = JSON.parse(readFileSync(new URL('./python-random.golden.json', import.meta.url), 'utf8')) as Golden;
const range = (n: number) => Array.from({ length: n }, (_, index) => index);

describe('PythonRandom (CPython random.Random)', () => {
  it.each(golden.seeds)('seed $seed: getrandbits, _randbelow and sample match Python', (vector) => {
    const rng = new PythonRandom(BigInt(vector.seed));
    expect(Array.from({ length: 8 }, () => Number(rng.getrandbits(32)))).toEqual(vector.uint32);
    expect(vector.bits.map(([k]) => String(rng.getrandbits(k)))).toEqual(vector.bits.map(([, value]) => value));
    expect([1, 2, 3, 7, 1000, 2 ** 31 + 5].map((n) => rng.randbelow(n))).toEqual(vector.randbelow);
    // 10 of 10 takes the pool branch of sample, 12 of 1000 the set branch
    expect(rng.sample(range(10), 10)).toEqual(vector.sampleSmall);
    expect(rng.sample(range(1000), 12)).toEqual(vector.sampleLarge);
  });

  it('rejects bad arguments with codes', () => {
    const rng = new PythonRandom(0);
    expect(() => rng.sample([1, 2], 3)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => rng.randbelow(0)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => rng.getrandbits(-1)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => new PythonRandom(0.5)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('simpleEvalsPermutations (gpqa_eval.py order)', () => {
  it(`reproduces all ${golden.gpqaDiamondRepeats4.length} permutations of GPQA-Diamond × 4 repeats`, () => {
    const order = simpleEvalsPermutations(range(198), { nRepeats: 4 });
    expect(order.map((entry) => entry.permutation)).toEqual(golden.gpqaDiamondRepeats4);
    expect(order.map((entry) => entry.example)).toEqual([...range(198), ...range(198), ...range(198), ...range(198)]);
  });

  it('draws the num_examples subset from the same generator first', () => {
    const order = simpleEvalsPermutations(range(198), { numExamples: 50 });
    expect(order.map((entry) => entry.example)).toEqual(golden.numExamples50.subset);
    expect(order.map((entry) => entry.permutation)).toEqual(golden.numExamples50.permutations);
    expect(() => simpleEvalsPermutations(range(198), { numExamples: 5, nRepeats: 2 })).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('maps a permutation to choices and the gold letter like simple-evals', () => {
    // simple-evals: choices = [choices[i] for i in permutation]; gold = "ABCD"[choices.index(correct)]
    const [first] = simpleEvalsPermutations(['q0'], {});
    expect(first?.permutation).toEqual([3, 1, 0, 2]);
    const shuffled = shuffleChoices({ correct: 'right', incorrect: ['w1', 'w2', 'w3'], permutation: [3, 1, 0, 2] });
    expect(shuffled).toEqual({ choices: ['w3', 'w1', 'right', 'w2'], goldLetter: 'C' });
    expect(() =>
      shuffleChoices({ correct: 'right', incorrect: ['w1', 'w2', 'w3'], permutation: [0, 0, 1, 2] }),
    ).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
